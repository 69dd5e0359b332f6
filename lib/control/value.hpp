// mcfwd::control::Value — the answer of a command: a small JSON-like tree that
// the application turns into rte_tel_data (app/mcfwd/telemetry.cpp) and tests
// read directly; plus the error answer and the one way untrusted text is echoed
// in messages.
//
// Thread-safety: a plain value.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mcfwd::control {

/// A JSON-like value: unsigned or signed integer, string, list, or object (keys
/// kept in insertion order). Built by commands, read by the app and by tests.
class Value {
public:
    enum class Kind : uint8_t { uint, sint, string, list, object };

    Value() : kind_(Kind::object) {} // an empty object
    static Value object() { return Value(); }
    static Value list() {
        Value v;
        v.kind_ = Kind::list;
        return v;
    }
    Value(uint64_t u) : kind_(Kind::uint), u_(u) {}
    Value(uint32_t u) : Value(uint64_t(u)) {}
    Value(int64_t i) : kind_(Kind::sint), i_(i) {}
    Value(int i) : Value(int64_t(i)) {}
    Value(std::string s) : kind_(Kind::string), s_(std::move(s)) {}
    Value(std::string_view s) : Value(std::string(s)) {}
    Value(const char* s) : Value(std::string(s)) {}

    Kind kind() const noexcept { return kind_; }
    bool is_object() const noexcept { return kind_ == Kind::object; }
    bool is_list() const noexcept { return kind_ == Kind::list; }
    bool is_scalar() const noexcept { return kind_ != Kind::object && kind_ != Kind::list; }
    uint64_t as_uint() const noexcept { return u_; }
    int64_t as_int() const noexcept { return i_; }
    const std::string& as_string() const noexcept { return s_; }

    /// Object: appends key (replaces an existing key's value). Returns the stored value.
    Value& set(std::string_view key, Value v);
    /// List: appends. Returns the stored value.
    Value& push(Value v);
    /// Object: the value of key, or null.
    const Value* find(std::string_view key) const;
    /// Elements of a list or values of an object.
    const std::vector<Value>& items() const noexcept { return items_; }
    /// Keys of an object (parallel to items()).
    const std::vector<std::string>& keys() const noexcept { return keys_; }
    size_t size() const noexcept { return items_.size(); }

    /// Compact JSON (for tests, logs and size checks).
    std::string to_json() const;

    friend bool operator==(const Value&, const Value&) = default;

private:
    Kind kind_;
    uint64_t u_ = 0;
    int64_t i_ = 0;
    std::string s_;
    std::vector<std::string> keys_;
    std::vector<Value> items_;
};

/// {"error": code, "message": message}. code is an errno name ("EINVAL").
Value error_value(std::string_view code, std::string message);
/// Whether v is an error answer.
bool is_error(const Value& v);

/// Untrusted text (a name, an argument) as an error message may echo it: the
/// first 40 bytes, anything unprintable as '?', "..." when cut.
std::string quote(std::string_view s);

} // namespace mcfwd::control
