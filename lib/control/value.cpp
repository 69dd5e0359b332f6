#include "control/value.hpp"

namespace mcfwd::control {

Value& Value::set(std::string_view key, Value v) {
    for (size_t i = 0; i < keys_.size(); ++i)
        if (keys_[i] == key)
            return items_[i] = std::move(v);
    keys_.emplace_back(key);
    items_.push_back(std::move(v));
    return items_.back();
}

Value& Value::push(Value v) {
    items_.push_back(std::move(v));
    return items_.back();
}

const Value* Value::find(std::string_view key) const {
    for (size_t i = 0; i < keys_.size(); ++i)
        if (keys_[i] == key)
            return &items_[i];
    return nullptr;
}

namespace {

void json_string(std::string& out, std::string_view s) {
    out += '"';
    for (char c : s) {
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                static constexpr char hex[] = "0123456789abcdef";
                out += "\\u00";
                out += hex[(c >> 4) & 0xf];
                out += hex[c & 0xf];
            } else {
                out += c;
            }
        }
    }
    out += '"';
}

void json(std::string& out, const Value& v) {
    switch (v.kind()) {
    case Value::Kind::uint:
        out += std::to_string(v.as_uint());
        break;
    case Value::Kind::sint:
        out += std::to_string(v.as_int());
        break;
    case Value::Kind::string:
        json_string(out, v.as_string());
        break;
    case Value::Kind::list:
        out += '[';
        for (size_t i = 0; i < v.size(); ++i) {
            if (i)
                out += ',';
            json(out, v.items()[i]);
        }
        out += ']';
        break;
    case Value::Kind::object:
        out += '{';
        for (size_t i = 0; i < v.size(); ++i) {
            if (i)
                out += ',';
            json_string(out, v.keys()[i]);
            out += ':';
            json(out, v.items()[i]);
        }
        out += '}';
        break;
    }
}

} // namespace

std::string Value::to_json() const {
    std::string out;
    json(out, *this);
    return out;
}

Value error_value(std::string_view code, std::string message) {
    Value v;
    v.set("error", code);
    // DPDK 22.11 telemetry truncates strings at 127 bytes.
    if (message.size() > 120)
        message = message.substr(0, 117) + "...";
    v.set("message", std::move(message));
    return v;
}

bool is_error(const Value& v) {
    return v.is_object() && v.find("error") != nullptr;
}

std::string quote(std::string_view s) {
    std::string out;
    for (char c : s.substr(0, 40))
        out += (c >= 0x20 && c < 0x7f) ? c : '?';
    if (s.size() > 40)
        out += "...";
    return out;
}

} // namespace mcfwd::control
