// Parsing and validation of the YAML configuration. See config.hpp for the contract and
// docs/CONFIGURATION.md for the schema.
//
// yaml-cpp's own conversions (Node::as<T>) are not used: they accept "0x10", "1e3" and
// quoted numbers, and their errors carry no key path. Every scalar is read here from its
// text, so each rule can name the key and the line.
#include "config/config.hpp"

#include "base/names.hpp"

#include "config/devices.hpp"
#include "config/echo.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <unordered_map>

namespace mcfwd::config {

ConfigError::ConfigError(std::string file, Location where, std::string path, std::string message)
    : std::runtime_error(where.line > 0
                             ? file + ":" + std::to_string(where.line) + ":" +
                                   std::to_string(where.column) + ": " + path + ": " + message
                             : file + ": " + path + ": " + message),
      file_(std::move(file)), where_(where), path_(std::move(path)), message_(std::move(message)) {}

std::string_view role_name(PortRole r) noexcept {
    return r == PortRole::upstream ? "upstream" : "downstream";
}

std::string_view flow_steering_name(FlowSteering f) noexcept {
    switch (f) {
    case FlowSteering::automatic:
        return "auto";
    case FlowSteering::on:
        return "on";
    case FlowSteering::off:
        return "off";
    }
    return "?";
}

const Port* Config::find_port(std::string_view name) const noexcept {
    for (const Port& p : ports)
        if (p.name == name)
            return &p;
    return nullptr;
}

namespace {

using addr::IpAddr;
using filter::FilterMode;
using filter::FilterState;
using filter::SourceSet;

// Debian's DPDK is built with RTE_MAX_LCORE = 128; lib/ cannot include rte_config.h.
constexpr unsigned max_lcore_id = 127;
constexpr uint32_t mbuf_headroom = 128; // RTE_PKTMBUF_HEADROOM

std::string join_names(const std::vector<std::string_view>& names) {
    std::string out;
    for (std::string_view n : names) {
        if (!out.empty())
            out += ", ";
        out += n;
    }
    return out;
}

std::string child(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string index(const std::string& path, size_t i) {
    return path + "[" + std::to_string(i) + "]";
}

/// The document as a tree, built from yaml-cpp's parser events in the one pass that also
/// reads the text: YAML::Load's node graph (a shared_ptr-linked node per scalar, freed node
/// by node) took three quarters of mcfwd's start-up with 1M static joins, and the text was
/// then parsed a second time to count documents. Only what Reader asks of a node is kept:
/// its kind, scalar text, tag (plain or not), mark and children, nodes in one vector.
/// Aliases point at their anchor's node, as yaml-cpp's do.
class Tree final : public YAML::EventHandler {
public:
    struct Item {
        YAML::NodeType::value type = YAML::NodeType::Null;
        bool plain = false; // untagged plain scalar: yaml-cpp's tag "?"
        YAML::Mark mark = YAML::Mark::null_mark();
        std::string scalar;
        uint32_t first = 0; // children in kids_[first, first + count); a map's alternate
        uint32_t count = 0; // key, value
    };

    /// A handle on one node (or on none: a null node without a mark, as YAML::Node()).
    class Node {
    public:
        Node() = default;
        YAML::NodeType::value Type() const { return item().type; }
        bool IsNull() const { return Type() == YAML::NodeType::Null; }
        bool IsScalar() const { return Type() == YAML::NodeType::Scalar; }
        bool IsSequence() const { return Type() == YAML::NodeType::Sequence; }
        bool IsMap() const { return Type() == YAML::NodeType::Map; }
        const std::string& Scalar() const { return item().scalar; }
        bool plain() const { return item().plain; }
        YAML::Mark Mark() const { return item().mark; }
        /// Elements of a sequence, or keys and values of a map in turn.
        size_t size() const { return item().count; }
        Node child(size_t i) const { return {tree_, tree_->kids_[item().first + i]}; }

    private:
        friend class Tree;
        Node(const Tree* t, uint32_t i) : tree_(t), index_(i) {}
        const Item& item() const {
            static const Item none;
            return tree_ == nullptr ? none : tree_->items_[index_];
        }
        const Tree* tree_ = nullptr;
        uint32_t index_ = 0;
    };

    /// The first document's root; a null Node if the text has no document.
    Node root() const { return items_.empty() ? Node() : Node(this, root_); }

    void OnDocumentStart(const YAML::Mark&) override {}
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
        add(Item{YAML::NodeType::Null, false, mark, {}, 0, 0}, anchor);
    }
    void OnAlias(const YAML::Mark&, YAML::anchor_t anchor) override { attach(anchors_.at(anchor)); }
    void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  const std::string& value) override {
        add(Item{YAML::NodeType::Scalar, tag == "?", mark, value, 0, 0}, anchor);
    }
    void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                         YAML::EmitterStyle::value) override {
        open(Item{YAML::NodeType::Sequence, false, mark, {}, 0, 0}, anchor);
    }
    void OnSequenceEnd() override { close(); }
    void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                    YAML::EmitterStyle::value) override {
        open(Item{YAML::NodeType::Map, false, mark, {}, 0, 0}, anchor);
    }
    void OnMapEnd() override { close(); }

private:
    uint32_t add(Item&& it, YAML::anchor_t anchor) {
        const auto i = static_cast<uint32_t>(items_.size());
        items_.push_back(std::move(it));
        if (anchor != YAML::NullAnchor)
            anchors_[anchor] = i;
        attach(i);
        return i;
    }
    /// A finished node goes to its open parent, or becomes the root.
    void attach(uint32_t i) {
        if (open_.empty())
            root_ = i;
        else
            pending_.push_back(i);
    }
    /// A container's children arrive before it ends: they wait in pending_ and move to
    /// kids_ in one block when it closes.
    void open(Item&& it, YAML::anchor_t anchor) {
        const auto i = static_cast<uint32_t>(items_.size());
        items_.push_back(std::move(it));
        if (anchor != YAML::NullAnchor)
            anchors_[anchor] = i;
        open_.push_back({i, pending_.size()});
        // Attached when it closes, after its children: the parent sees it in order.
    }
    void close() {
        const auto [i, from] = open_.back();
        open_.pop_back();
        Item& it = items_[i];
        it.first = static_cast<uint32_t>(kids_.size());
        it.count = static_cast<uint32_t>(pending_.size() - from);
        kids_.insert(kids_.end(), pending_.begin() + static_cast<ptrdiff_t>(from), pending_.end());
        pending_.resize(from);
        attach(i);
    }

    std::vector<Item> items_;
    std::vector<uint32_t> kids_;
    std::vector<uint32_t> pending_;
    std::vector<std::pair<uint32_t, size_t>> open_; // open container, its first pending child
    std::unordered_map<YAML::anchor_t, uint32_t> anchors_;
    uint32_t root_ = 0;
};

using Node = Tree::Node;

/// What a node is, for "expected X, got Y" messages.
std::string describe(const Node& n) {
    switch (n.Type()) {
    case YAML::NodeType::Map:
        return "a mapping";
    case YAML::NodeType::Sequence:
        return "a sequence";
    case YAML::NodeType::Scalar:
        return shown(n.Scalar());
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
        break;
    }
    return "nothing (null)";
}

bool is_plain(const Node& n) {
    return n.plain();
}

/// Reads one configuration text. Every check fails through fail(), which throws.
class Reader {
public:
    explicit Reader(std::string file) : file_(std::move(file)) {}

    Config read(std::string_view text);

private:
    struct Field {
        Node key;
        Node value;
        Location loc;     // of the value, or of the key when the value is empty
        Location key_loc; // of the key; equal to loc for sequence elements
    };

    /// A mapping whose keys were checked against an allowed list.
    class Map {
    public:
        Map(Reader& r, const Node& n, const std::string& path, Location where,
            std::vector<std::string_view> allowed);

        const Field* get(std::string_view key) const {
            auto it = fields_.find(std::string(key));
            return it == fields_.end() ? nullptr : &it->second;
        }
        const Field& require(std::string_view key) const {
            const Field* f = get(key);
            if (f == nullptr)
                r_.fail(where_, child(path_, key), "missing required key");
            return *f;
        }
        std::string path(std::string_view key) const { return child(path_, key); }
        Location where() const { return where_; }

    private:
        Reader& r_;
        std::string path_;
        Location where_;
        std::map<std::string, Field, std::less<>> fields_;
    };

    [[noreturn]] void fail(Location where, const std::string& path,
                           const std::string& message) const {
        throw ConfigError(file_, where, path, message);
    }

    static Location mark_of(const Node& n, Location fallback) {
        const YAML::Mark m = n.Mark();
        if (m.is_null() || m.line < 0)
            return fallback;
        return {m.line + 1, m.column + 1};
    }

    std::string scalar(const Field& f, const std::string& path, std::string_view what) const {
        if (!f.value.IsScalar())
            fail(f.loc, path, "expected " + std::string(what) + ", got " + describe(f.value));
        return f.value.Scalar();
    }

    std::string string(const Field& f, const std::string& path) const {
        return scalar(f, path, "a string");
    }

    int64_t integer(const Field& f, const std::string& path, int64_t min, int64_t max) const;
    bool boolean(const Field& f, const std::string& path) const;
    IpAddr address(const Field& f, const std::string& path) const;

    /// The elements of a sequence as fields (each with its own location).
    std::vector<Field> sequence(const Field& f, const std::string& path) const {
        if (!f.value.IsSequence())
            fail(f.loc, path,
                 "expected a sequence, got " + describe(f.value) +
                     (f.value.IsNull() ? " (write [] for none)" : ""));
        std::vector<Field> out;
        out.reserve(f.value.size());
        for (size_t i = 0; i < f.value.size(); ++i) {
            const Node n = f.value.child(i);
            out.push_back({Node(), n, mark_of(n, f.loc), mark_of(n, f.loc)});
        }
        return out;
    }

    template <typename E>
    E keyword(const Field& f, const std::string& path,
              std::initializer_list<std::pair<std::string_view, E>> words) const {
        const std::string s = scalar(f, path, "a keyword");
        std::vector<std::string_view> names;
        for (const auto& [name, value] : words) {
            if (s == name)
                return value;
            names.push_back(name);
        }
        fail(f.loc, path, "must be one of " + join_names(names) + ", got " + shown(s));
    }

    void read_eal(const Field& f, Config& c);
    void read_lcores(const Field& f, Config& c);
    void read_mempool(const Field& f, Config& c);
    void read_limits(const Field& f, Config& c);
    void read_telemetry(const Field& f, Config& c);
    void read_shutdown(const Field& f, Config& c);
    void read_ports(const Field& f, Config& c);
    /// role_loc: where the port's role is written (its entry when it is not).
    Port read_port(const Field& f, const std::string& path, const Config& c, Location& role_loc);
    void read_protocol(const Field& f, const std::string& path, addr::Family family,
                       ProtocolConfig& p);
    void read_querier(const Field& f, const std::string& path, QuerierConfig& q);
    uint8_t protocol_version(const Field& f, const std::string& path, addr::Family family) const;
    void read_receivers(const Field& f, Config& c);
    Receiver read_receiver(const Field& f, const std::string& path, const Config& c);
    Join read_join(const Field& f, const std::string& path, const Config& c);
    size_t port_ref(const Field& f, const std::string& path, const Config& c) const;

    std::string file_;
    std::set<std::string> ring_names_;
};

Reader::Map::Map(Reader& r, const Node& n, const std::string& path, Location where,
                 std::vector<std::string_view> allowed)
    : r_(r), path_(path), where_(where) {
    if (!n.IsMap())
        r.fail(where, path.empty() ? "(document)" : path, "expected a mapping, got " + describe(n));
    for (size_t i = 0; i + 1 < n.size(); i += 2) {
        const Node key = n.child(i);
        const Location key_loc = mark_of(key, where);
        if (!key.IsScalar())
            r.fail(key_loc, path.empty() ? "(document)" : path,
                   "a key must be a plain name, got " + describe(key));
        const std::string name = key.Scalar();
        if (std::find(allowed.begin(), allowed.end(), name) == allowed.end())
            r.fail(key_loc, child(path, cut(name)),
                   "unknown key " + shown(name) + "; allowed: " + join_names(allowed));
        // yaml-cpp keeps both entries of a repeated key and lookups see only the first;
        // a silent winner would hide the user's mistake.
        if (auto prev = fields_.find(name); prev != fields_.end())
            r.fail(key_loc, child(path, name),
                   "duplicate key (first at line " + std::to_string(prev->second.key_loc.line) +
                       ")");
        // yaml-cpp marks an empty value ("key:" then a newline) at the next line.
        const Node value = n.child(i + 1);
        fields_.emplace(
            name, Field{key, value, value.IsNull() ? key_loc : mark_of(value, key_loc), key_loc});
    }
}

int64_t Reader::integer(const Field& f, const std::string& path, int64_t min, int64_t max) const {
    const std::string range = "between " + std::to_string(min) + " and " + std::to_string(max);
    if (!f.value.IsScalar() || !is_plain(f.value))
        fail(f.loc, path, "expected an integer " + range + ", got " + describe(f.value));
    const std::string& s = f.value.Scalar();
    size_t i = (s.size() > 1 && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
    const bool digits = i < s.size() && std::all_of(s.begin() + static_cast<ptrdiff_t>(i), s.end(),
                                                    [](char c) { return c >= '0' && c <= '9'; });
    if (!digits)
        fail(f.loc, path, "expected a decimal integer " + range + ", got " + shown(s));
    int64_t v = 0;
    bool overflow = false;
    for (; i < s.size(); ++i) {
        if (v > (int64_t{1} << 40)) {
            overflow = true;
            break;
        }
        v = v * 10 + (s[i] - '0');
    }
    if (s[0] == '-')
        v = -v;
    if (overflow || v < min || v > max)
        fail(f.loc, path, "must be " + range + ", got " + cut(s));
    return v;
}

bool Reader::boolean(const Field& f, const std::string& path) const {
    if (f.value.IsScalar() && is_plain(f.value)) {
        const std::string& s = f.value.Scalar();
        if (s == "true" || s == "True" || s == "TRUE")
            return true;
        if (s == "false" || s == "False" || s == "FALSE")
            return false;
    }
    fail(f.loc, path, "expected true or false, got " + describe(f.value));
}

IpAddr Reader::address(const Field& f, const std::string& path) const {
    const std::string s = scalar(f, path, "an IP address");
    const std::optional<IpAddr> a = IpAddr::parse(s);
    if (!a)
        fail(f.loc, path, shown(s) + " is not an IPv4 or IPv6 address");
    return *a;
}

/// Counts documents without building nodes, to reject a second one. Bounded: yaml-cpp 0.7's
/// LoadAll loops forever on a stray ',' (jbeder/yaml-cpp#1040, fixed upstream by #1319)
/// because the parser keeps reporting empty documents; those have no content event.
class DocumentCounter final : public YAML::EventHandler {
public:
    void OnDocumentStart(const YAML::Mark& mark) override {
        start_ = mark;
        content_ = false;
    }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override { content_ = true; }
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  const std::string&) override {
        content_ = true;
    }
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                         YAML::EmitterStyle::value) override {
        content_ = true;
    }
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                    YAML::EmitterStyle::value) override {
        content_ = true;
    }
    void OnMapEnd() override {}

    YAML::Mark start_;
    bool content_ = false;
};

Config Reader::read(std::string_view text) {
    Tree tree;
    try {
        // One parser reads the first document into the tree, then goes on from where it
        // stopped only to find whether a second document follows (not LoadAll's loop).
        std::istringstream in{std::string(text)};
        YAML::Parser parser(in);
        parser.HandleNextDocument(tree);
        DocumentCounter counter;
        if (parser.HandleNextDocument(counter) && counter.content_)
            fail({counter.start_.line + 1, counter.start_.column + 1}, "(document)",
                 "only one YAML document is allowed");
    } catch (const YAML::Exception& e) {
        Location where{1, 1};
        if (!e.mark.is_null())
            where = {e.mark.line + 1, e.mark.column + 1};
        fail(where, "(syntax)", e.msg);
    }

    const Node root = tree.root();
    const std::vector<std::string_view> sections = {
        "eal", "lcores", "mempool", "limits", "telemetry", "shutdown", "ports", "receivers"};
    // Said in words: "expected a mapping, got nothing" did not tell that the file was empty.
    if (root.IsNull())
        fail(mark_of(root, {1, 1}), "(document)",
             "the configuration is empty: it is a mapping of sections (" + join_names(sections) +
                 ") with at least ports:");
    if (!root.IsMap())
        fail(mark_of(root, {1, 1}), "(document)",
             "expected a mapping of sections (" + join_names(sections) + "), got " +
                 describe(root));
    Config c;
    c.file = file_;
    const Map top(*this, root, "", mark_of(root, {1, 1}), sections);
    if (const Field* f = top.get("eal"))
        read_eal(*f, c);
    if (const Field* f = top.get("lcores"))
        read_lcores(*f, c);
    if (const Field* f = top.get("mempool"))
        read_mempool(*f, c);
    if (const Field* f = top.get("limits"))
        read_limits(*f, c);
    if (const Field* f = top.get("telemetry"))
        read_telemetry(*f, c);
    if (const Field* f = top.get("shutdown"))
        read_shutdown(*f, c);
    // Ports before receivers, limits before joins: references and limits are resolved
    // whatever order the file writes the sections in.
    read_ports(top.require("ports"), c);
    if (const Field* f = top.get("receivers"))
        read_receivers(*f, c);
    return c;
}

void Reader::read_eal(const Field& f, Config& c) {
    const std::vector<Field> args = sequence(f, "eal");
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string path = index("eal", i);
        std::string a = scalar(args[i], path, "a string");
        // mcfwd derives these from lcores: and ports:; a second source of truth would
        // let the EAL and mcfwd disagree on which lcore or device is which.
        auto is_opt = [&](std::string_view opt) {
            return a == opt ||
                   (a.starts_with(opt) && opt.starts_with("--") && a.size() > opt.size() &&
                    a[opt.size()] == '=') ||
                   (!opt.starts_with("--") && a.starts_with(opt) && !a.starts_with("--"));
        };
        for (std::string_view opt : {"-l", "-c", "--lcores", "--main-lcore", "--master-lcore"})
            if (is_opt(opt))
                fail(args[i].loc, path, shown(a) + " is set by mcfwd from lcores:; remove it");
        for (std::string_view opt : {"--vdev"})
            if (is_opt(opt))
                fail(args[i].loc, path, shown(a) + " is set by mcfwd from ports:; remove it");
        c.eal.push_back(std::move(a));
    }
}

void Reader::read_lcores(const Field& f, Config& c) {
    const Map m(*this, f.value, "lcores", f.loc, {"control", "forwarding"});
    // Where each control lcore is written, for the overlap error below.
    std::vector<Location> control_locs;
    if (const Field* x = m.get("control")) {
        if (x->value.IsSequence()) {
            const std::vector<Field> ids = sequence(*x, m.path("control"));
            if (ids.empty())
                fail(x->loc, m.path("control"), "must list at least one lcore");
            c.lcores.control.clear();
            for (size_t i = 0; i < ids.size(); ++i) {
                const std::string path = index(m.path("control"), i);
                const auto id = static_cast<unsigned>(integer(ids[i], path, 0, max_lcore_id));
                if (std::find(c.lcores.control.begin(), c.lcores.control.end(), id) !=
                    c.lcores.control.end())
                    fail(ids[i].loc, path, "lcore " + std::to_string(id) + " is listed twice");
                c.lcores.control.push_back(id);
                control_locs.push_back(ids[i].loc);
            }
        } else {
            c.lcores.control = {
                static_cast<unsigned>(integer(*x, m.path("control"), 0, max_lcore_id))};
            control_locs.push_back(x->loc);
        }
    }
    if (const Field* x = m.get("forwarding")) {
        const std::vector<Field> ids = sequence(*x, m.path("forwarding"));
        if (ids.empty())
            fail(x->loc, m.path("forwarding"), "must list at least one lcore");
        c.lcores.forwarding.clear();
        for (size_t i = 0; i < ids.size(); ++i) {
            const std::string path = index(m.path("forwarding"), i);
            const auto id = static_cast<unsigned>(integer(ids[i], path, 0, max_lcore_id));
            if (std::find(c.lcores.forwarding.begin(), c.lcores.forwarding.end(), id) !=
                c.lcores.forwarding.end())
                fail(ids[i].loc, path, "lcore " + std::to_string(id) + " is listed twice");
            c.lcores.forwarding.push_back(id);
        }
    }
    const bool several = c.lcores.control.size() > 1;
    for (size_t i = 0; i < c.lcores.forwarding.size(); ++i)
        for (size_t k = 0; k < c.lcores.control.size(); ++k) {
            const unsigned id = c.lcores.control[k];
            if (c.lcores.forwarding[i] != id)
                continue;
            const Field* x = m.get("forwarding");
            // With forwarding: defaulted, the overlap is the control id the user wrote.
            if (x == nullptr)
                fail(control_locs[k], several ? index(m.path("control"), k) : m.path("control"),
                     "lcore " + std::to_string(id) +
                         " is also the default forwarding lcore; set lcores.forwarding");
            fail(sequence(*x, "")[i].loc, index(m.path("forwarding"), i),
                 "lcore " + std::to_string(id) + " is " +
                     (several ? "a control lcore" : "the control lcore") +
                     "; it cannot also forward");
        }
}

void Reader::read_mempool(const Field& f, Config& c) {
    const Map m(*this, f.value, "mempool", f.loc, {"mbufs", "cache", "data_room"});
    // With mbufs >= 1023 and cache <= 512 (RTE_MEMPOOL_CACHE_MAX_SIZE), DPDK's
    // cache * 1.5 <= n rule always holds.
    if (const Field* x = m.get("mbufs"))
        c.mempool.mbufs = static_cast<uint32_t>(integer(*x, m.path("mbufs"), 1023, 16777215));
    if (const Field* x = m.get("cache"))
        c.mempool.cache = static_cast<uint32_t>(integer(*x, m.path("cache"), 0, 512));
    if (const Field* x = m.get("data_room"))
        c.mempool.data_room =
            static_cast<uint32_t>(integer(*x, m.path("data_room"), mbuf_headroom + 128, 65535));
}

void Reader::read_limits(const Field& f, Config& c) {
    const Map m(*this, f.value, "limits", f.loc, {"max_filter_sources", "max_merged_sources"});
    if (const Field* x = m.get("max_filter_sources"))
        c.limits.max_filter_sources =
            static_cast<uint32_t>(integer(*x, m.path("max_filter_sources"), 1, 65536));
    if (const Field* x = m.get("max_merged_sources"))
        c.limits.max_merged_sources =
            static_cast<uint32_t>(integer(*x, m.path("max_merged_sources"), 1, 65536));
}

void Reader::read_shutdown(const Field& f, Config& c) {
    const Map m(*this, f.value, "shutdown", f.loc, {"leave_deadline_ms"});
    if (const Field* x = m.get("leave_deadline_ms"))
        c.shutdown.leave_deadline_ms =
            static_cast<uint32_t>(integer(*x, m.path("leave_deadline_ms"), 0, 60000));
}

void Reader::read_telemetry(const Field& f, Config& c) {
    const Map m(*this, f.value, "telemetry", f.loc, {"read_only"});
    if (const Field* x = m.get("read_only"))
        c.telemetry.read_only = boolean(*x, m.path("read_only"));
}

void Reader::read_ports(const Field& f, Config& c) {
    const std::vector<Field> ports = sequence(f, "ports");
    if (ports.empty())
        fail(f.loc, "ports", "must list at least one port");
    Location first_role; // where ports[0]'s role is written
    bool upstream = false;
    for (size_t i = 0; i < ports.size(); ++i) {
        // Port ids are DPDK's: the EAL refuses a port beyond its build's limit, after
        // starting; here it is refused at its own entry.
        if (i == max_ports)
            fail(ports[i].loc, index("ports", i),
                 "too many ports: " + std::to_string(ports.size()) + ", at most " +
                     std::to_string(max_ports) + " (RTE_MAX_ETHPORTS of Debian's DPDK build)");
        Location role_loc;
        c.ports.push_back(read_port(ports[i], index("ports", i), c, role_loc));
        upstream |= c.ports.back().role == PortRole::upstream;
        if (i == 0)
            first_role = role_loc;
    }
    // RFC 4605: a proxy's downstream ports are merged into its upstream port. Without an
    // upstream port every port is downstream, ports[0] too, and its role is written: the
    // error points at that value.
    if (!upstream)
        fail(first_role, "ports[0].role",
             "a downstream port needs an upstream port to proxy to (none is configured)");
}

Port Reader::read_port(const Field& f, const std::string& path, const Config& c,
                       Location& role_loc) {
    const Map m(*this, f.value, path, f.loc,
                {"name", "device", "pci", "rx_queues", "tx_queues", "mtu", "vlan", "role", "ipv4",
                 "ipv6", "igmp", "mld", "flow_steering", "querier", "punt_rate_pps", "punt_burst",
                 "control_lcore"});
    Port p;
    p.location = f.loc;
    // Round robin in port order unless the port names its control lcore.
    p.control_lcore = c.lcores.control[c.ports.size() % c.lcores.control.size()];
    if (const Field* x = m.get("control_lcore")) {
        const auto id =
            static_cast<unsigned>(integer(*x, m.path("control_lcore"), 0, max_lcore_id));
        const auto& list = c.lcores.control;
        if (std::find(list.begin(), list.end(), id) == list.end()) {
            std::string ids;
            for (unsigned l : list)
                ids += (ids.empty() ? "" : ", ") + std::to_string(l);
            fail(x->loc, m.path("control_lcore"),
                 "lcore " + std::to_string(id) + " is not a control lcore (lcores.control: [" +
                     ids + "])");
        }
        p.control_lcore = id;
    }

    const Field& name = m.require("name");
    p.name = string(name, m.path("name"));
    if (!is_object_name(p.name))
        fail(name.loc, m.path("name"),
             shown(p.name) + " is not a valid name: 1 to 32 characters of [a-z0-9_-]");
    for (size_t i = 0; i < c.ports.size(); ++i)
        if (c.ports[i].name == p.name)
            fail(name.loc, m.path("name"),
                 "duplicate port name " + shown(p.name) + " (also ports[" + std::to_string(i) +
                     "], line " + std::to_string(c.ports[i].location.line) + ")");

    const Field* device = m.get("device");
    const Field* pci = m.get("pci");
    if (device == nullptr && pci == nullptr)
        fail(m.where(), path,
             "needs exactly one of device (a --vdev string) or pci (a DBDF address)");
    if (device != nullptr && pci != nullptr)
        fail(pci->loc, m.path("pci"), "device and pci are exclusive; give one of them");
    if (device != nullptr) {
        p.kind = DeviceKind::vdev;
        p.device = string(*device, m.path("device"));
        p.device_location = device->loc;
        if (auto why = devices::check_device(p.device))
            fail(device->loc, m.path("device"), *why);
        const std::string_view dn = devices::instance_name(p.device);
        for (size_t i = 0; i < c.ports.size(); ++i)
            if (c.ports[i].kind == DeviceKind::vdev &&
                devices::instance_name(c.ports[i].device) == dn)
                fail(device->loc, m.path("device"),
                     "device " + std::string(dn) + " is already used by ports[" +
                         std::to_string(i) + "] (" + c.ports[i].name + ")");
    } else {
        p.kind = DeviceKind::pci;
        p.device_location = pci->loc;
        const std::optional<std::string> dbdf = devices::canonical_pci(string(*pci, m.path("pci")));
        if (!dbdf)
            fail(pci->loc, m.path("pci"),
                 shown(pci->value.Scalar()) +
                     " is not a PCI address: expected domain:bus:device.function such as "
                     "\"0000:01:00.0\" (or bus:device.function, domain 0000)");
        p.device = *dbdf;
        for (size_t i = 0; i < c.ports.size(); ++i)
            if (c.ports[i].kind == DeviceKind::pci && c.ports[i].device == p.device)
                fail(pci->loc, m.path("pci"),
                     "PCI device " + p.device + " is already used by ports[" + std::to_string(i) +
                         "] (" + c.ports[i].name + ")");
    }

    if (const Field* x = m.get("rx_queues"))
        p.rx_queues = static_cast<uint16_t>(integer(*x, m.path("rx_queues"), 1, 16));
    if (const Field* x = m.get("tx_queues"))
        p.tx_queues = static_cast<uint16_t>(integer(*x, m.path("tx_queues"), 1, 16));
    const Field* mtu = m.get("mtu");
    if (mtu != nullptr)
        p.mtu = static_cast<uint16_t>(integer(*mtu, m.path("mtu"), 68, 9600));
    if (const Field* x = m.get("vlan"))
        p.vlan = static_cast<uint16_t>(integer(*x, m.path("vlan"), 1, 4094));
    // mcfwd does not enable scattered RX: a frame of the MTU (Ethernet header, an optional
    // VLAN tag and the CRC some PMDs keep) must fit one mbuf after its headroom.
    const uint32_t frame = p.mtu + 14u + 4u + (p.vlan ? 4u : 0u);
    if (mbuf_headroom + frame > c.mempool.data_room)
        fail(mtu != nullptr ? mtu->loc : m.where(), m.path("mtu"),
             "mtu " + std::to_string(p.mtu) +
                 " needs mempool.data_room >= " + std::to_string(mbuf_headroom + frame) +
                 " (128 headroom + " + std::to_string(frame) + "-byte frame), got " +
                 std::to_string(c.mempool.data_room));

    if (const Field* x = m.get("punt_rate_pps"))
        p.punt_rate_pps = static_cast<uint32_t>(integer(*x, m.path("punt_rate_pps"), 0, 1000000));
    if (const Field* x = m.get("punt_burst"))
        p.punt_burst = static_cast<uint32_t>(integer(*x, m.path("punt_burst"), 1, 65535));
    role_loc = m.where();
    if (const Field* x = m.get("role")) {
        role_loc = x->loc;
        p.role = keyword<PortRole>(
            *x, m.path("role"),
            {{"upstream", PortRole::upstream}, {"downstream", PortRole::downstream}});
    }
    if (const Field* x = m.get("flow_steering"))
        p.flow_steering = keyword<FlowSteering>(*x, m.path("flow_steering"),
                                                {{"auto", FlowSteering::automatic},
                                                 {"on", FlowSteering::on},
                                                 {"off", FlowSteering::off}});

    if (const Field* x = m.get("ipv4")) {
        const Map v4(*this, x->value, m.path("ipv4"), x->loc, {"address"});
        const Field& a = v4.require("address");
        const IpAddr ip = address(a, v4.path("address"));
        const uint32_t h = ip.v4_host();
        if (!ip.is_v4())
            fail(a.loc, v4.path("address"), ip.to_string() + " is not an IPv4 address");
        if (ip.is_multicast() || h == 0 || h == 0xffffffffu || (h >> 24) == 127)
            fail(a.loc, v4.path("address"),
                 ip.to_string() + " is not a unicast address (IGMP source, RFC 3376 §4.2.13)");
        p.ipv4_address = ip;
    }
    if (const Field* x = m.get("ipv6")) {
        const Map v6(*this, x->value, m.path("ipv6"), x->loc, {"link_local"});
        const Field& a = v6.require("link_local");
        const IpAddr ip = address(a, v6.path("link_local"));
        if (!ip.is_v6_link_local_unicast())
            fail(a.loc, v6.path("link_local"),
                 ip.to_string() + " is not link-local (fe80::/10); MLD is sent from a " +
                     "link-local source (RFC 3810 §5)");
        p.ipv6_link_local = ip;
    }
    if (const Field* x = m.get("igmp"))
        read_protocol(*x, m.path("igmp"), addr::Family::v4, p.igmp);
    if (const Field* x = m.get("mld"))
        read_protocol(*x, m.path("mld"), addr::Family::v6, p.mld);
    if (const Field* x = m.get("querier")) {
        // The router side exists only where mcfwd faces hosts (RFC 4605: a proxy runs
        // the router portion on its downstream interfaces only).
        if (p.role != PortRole::downstream)
            fail(x->key_loc, m.path("querier"),
                 "applies to downstream ports only; this port's role is " +
                     std::string(role_name(p.role)) + (m.get("role") ? "" : " (the default)"));
        read_querier(*x, m.path("querier"), p.querier);
    }
    // The querier election compares source addresses (RFC 3376 §6.6.2): a downstream
    // port speaking IGMP needs its own, or 0.0.0.0 would win every election.
    if (p.role == PortRole::downstream && p.igmp.enabled && p.querier.enabled && !p.ipv4_address)
        fail(m.where(), m.path("ipv4") + ".address",
             "required on a downstream port that speaks IGMP: queries need a source address "
             "and the querier election compares it (RFC 3376 §6.6.2)");
    return p;
}

void Reader::read_querier(const Field& f, const std::string& path, QuerierConfig& q) {
    const Map m(*this, f.value, path, f.loc,
                {"enabled", "query_interval_ms", "query_response_interval_ms",
                 "last_member_query_interval_ms", "last_member_query_count", "startup_query_count",
                 "startup_query_interval_ms", "max_groups", "max_sources", "igmp_version",
                 "mld_version"});
    auto u32 = [&](const Field& x, std::string_view key, int64_t min, int64_t max) {
        return static_cast<uint32_t>(integer(x, m.path(key), min, max));
    };
    if (const Field* x = m.get("enabled"))
        q.enabled = boolean(*x, m.path("enabled"));
    // The QQIC (RFC 3376 §4.1.7, RFC 3810 §5.1.9) carries at most 31744 s; below 1 s it
    // would be sent as 0, which means "not given".
    const Field* qi = m.get("query_interval_ms");
    if (qi != nullptr)
        q.query_interval_ms = u32(*qi, "query_interval_ms", 1'000, 31'744'000);
    // IGMPv3's Max Resp Code counts tenths of a second up to 3174.4 s (RFC 3376 §4.1.1);
    // MLDv2's counts milliseconds up to 8387.584 s (RFC 3810 §5.1.3): the range both carry.
    const Field* qri = m.get("query_response_interval_ms");
    if (qri != nullptr)
        q.query_response_interval_ms = u32(*qri, "query_response_interval_ms", 100, 3'174'400);
    // RFC 3376 §8.3: the response interval must be less than the query interval, or hosts
    // would still be answering one query when the next arrives.
    if (q.query_response_interval_ms >= q.query_interval_ms) {
        const auto both =
            "query_response_interval_ms (" + std::to_string(q.query_response_interval_ms) +
            ") must be less than query_interval_ms (" + std::to_string(q.query_interval_ms) + ")";
        if (qri != nullptr)
            fail(qri->loc, m.path("query_response_interval_ms"),
                 both + (qi == nullptr ? ", the default" : "") + " (RFC 3376 §8.3)");
        fail(qi->loc, m.path("query_interval_ms"),
             both + ", with query_response_interval_ms at its default (RFC 3376 §8.3)");
    }
    // 25.5 s is the most an IGMPv2 group-specific query's Max Resp Time carries (RFC 2236
    // §2.2), and group-specific queries may be sent in IGMPv2 compatibility mode.
    if (const Field* x = m.get("last_member_query_interval_ms"))
        q.last_member_query_interval_ms = u32(*x, "last_member_query_interval_ms", 100, 25'500);
    if (const Field* x = m.get("last_member_query_count"))
        q.last_member_query_count = static_cast<uint8_t>(u32(*x, "last_member_query_count", 1, 7));
    if (const Field* x = m.get("startup_query_count"))
        q.startup_query_count = static_cast<uint8_t>(u32(*x, "startup_query_count", 1, 7));
    if (const Field* x = m.get("startup_query_interval_ms"))
        q.startup_query_interval_ms = u32(*x, "startup_query_interval_ms", 100, 31'744'000);
    if (const Field* x = m.get("max_groups"))
        q.max_groups = u32(*x, "max_groups", 1, 1'000'000);
    if (const Field* x = m.get("max_sources"))
        q.max_sources = u32(*x, "max_sources", 1, 10'000'000);
    // RFC 3376 §7.3.1 / RFC 3810 §8.3.1: the administrator sets the lowest version on the link.
    const Field* iv = m.get("igmp_version");
    if (iv != nullptr)
        q.igmp_version = protocol_version(*iv, m.path("igmp_version"), addr::Family::v4);
    const Field* mv = m.get("mld_version");
    if (mv != nullptr)
        q.mld_version = protocol_version(*mv, m.path("mld_version"), addr::Family::v6);
    // An IGMPv2 query's Max Resp Time counts tenths of a second in 8 bits (RFC 2236 §2.2),
    // an MLDv1 query's Maximum Response Delay milliseconds in 16 (RFC 2710 §3.4): a longer
    // response interval cannot be sent. (IGMPv1 queries carry none: hosts use 10 s.)
    auto too_long = [&](const Field* version, std::string_view what, uint32_t most,
                        std::string_view rfc) {
        const auto text = "query_response_interval_ms (" +
                          std::to_string(q.query_response_interval_ms) + ") is more than " +
                          std::string(what) + " carries (" + std::to_string(most) + ", " +
                          std::string(rfc) + ")";
        // qri is set: the default fits every version.
        fail(qri->loc, m.path("query_response_interval_ms"),
             text + " with " + std::string(version == iv ? "igmp_version 2" : "mld_version 1") +
                 " (line " + std::to_string(version->loc.line) + ")");
    };
    if (q.igmp_version == 2 && q.query_response_interval_ms > 25'500)
        too_long(iv, "an IGMPv2 query", 25'500, "RFC 2236 §2.2");
    if (q.mld_version == 1 && q.query_response_interval_ms > 65'535)
        too_long(mv, "an MLDv1 query", 65'535, "RFC 2710 §3.4");
}

// An IGMP (1..3) or MLD (1..2) version number.
uint8_t Reader::protocol_version(const Field& f, const std::string& path,
                                 addr::Family family) const {
    const std::string& s = f.value.IsScalar() ? f.value.Scalar() : std::string();
    const bool v4 = family == addr::Family::v4;
    if (!(f.value.IsScalar() && is_plain(f.value) && (s == "1" || s == "2" || (v4 && s == "3"))))
        fail(f.loc, path,
             std::string(v4 ? "must be 1, 2 or 3" : "must be 1 or 2") + ", got " +
                 (f.value.IsScalar() && is_plain(f.value) ? cut(s) : describe(f.value)));
    return static_cast<uint8_t>(s[0] - '0');
}

void Reader::read_protocol(const Field& f, const std::string& path, addr::Family family,
                           ProtocolConfig& p) {
    const Map m(*this, f.value, path, f.loc,
                {"enabled", "version", "robustness", "unsolicited_report_interval_ms",
                 "report_link_local_groups"});
    if (const Field* x = m.get("enabled"))
        p.enabled = boolean(*x, m.path("enabled"));
    if (const Field* x = m.get("version"))
        p.version = protocol_version(*x, m.path("version"), family);
    if (const Field* x = m.get("robustness"))
        p.robustness = static_cast<uint8_t>(integer(*x, m.path("robustness"), 1, 7));
    if (const Field* x = m.get("unsolicited_report_interval_ms"))
        p.unsolicited_report_interval_ms =
            static_cast<uint32_t>(integer(*x, m.path("unsolicited_report_interval_ms"), 1, 600000));
    if (const Field* x = m.get("report_link_local_groups"))
        p.report_link_local_groups = boolean(*x, m.path("report_link_local_groups"));
}

size_t Reader::port_ref(const Field& f, const std::string& path, const Config& c) const {
    const std::string name = string(f, path);
    for (size_t i = 0; i < c.ports.size(); ++i)
        if (c.ports[i].name == name)
            return i;
    std::vector<std::string_view> names;
    for (const Port& p : c.ports)
        names.push_back(p.name);
    fail(f.loc, path, "unknown port " + shown(name) + "; configured: " + join_names(names));
}

void Reader::read_receivers(const Field& f, Config& c) {
    const std::vector<Field> rs = sequence(f, "receivers");
    size_t downstream = 0;
    for (const Port& p : c.ports)
        downstream += p.role == PortRole::downstream;
    // A proxy has one more: its upstream port's, for the downstream senders.
    const size_t proxy_outlets = downstream > 0 ? downstream + 1 : 0;
    for (size_t i = 0; i < rs.size(); ++i) {
        if (proxy_outlets + i + 1 > max_outlets)
            fail(rs[i].loc, index("receivers", i),
                 "too many outlets: " + std::to_string(rs.size()) + " receiver(s) and " +
                     std::to_string(downstream) + " downstream port(s) (and the upstream " +
                     "port's), at most " + std::to_string(max_outlets) +
                     " in all (each is one outlet of the forwarding tables)");
        c.receivers.push_back(read_receiver(rs[i], index("receivers", i), c));
    }
}

Receiver Reader::read_receiver(const Field& f, const std::string& path, const Config& c) {
    const Map m(*this, f.value, path, f.loc, {"name", "sink", "joins"});
    Receiver r;
    r.location = f.loc;

    const Field& name = m.require("name");
    r.name = string(name, m.path("name"));
    if (!is_object_name(r.name))
        fail(name.loc, m.path("name"),
             shown(r.name) + " is not a valid name: 1 to 32 characters of [a-z0-9_-]");
    for (size_t i = 0; i < c.receivers.size(); ++i)
        if (c.receivers[i].name == r.name)
            fail(name.loc, m.path("name"),
                 "duplicate receiver name " + shown(r.name) + " (also receivers[" +
                     std::to_string(i) + "], line " + std::to_string(c.receivers[i].location.line) +
                     ")");

    const Field& sink = m.require("sink");
    const Map s(*this, sink.value, m.path("sink"), sink.loc, {"ring", "size", "port"});
    const Field* ring = s.get("ring");
    const Field* port = s.get("port");
    if (ring == nullptr && port == nullptr)
        fail(s.where(), m.path("sink"),
             "needs exactly one of ring (an rte_ring name) or port (a port name)");
    if (ring != nullptr && port != nullptr)
        fail(port->loc, s.path("port"), "ring and port are exclusive; give one of them");
    if (ring != nullptr) {
        r.sink.kind = SinkKind::ring;
        r.sink.name = string(*ring, s.path("ring"));
        if (!is_ring_name(r.sink.name))
            fail(ring->loc, s.path("ring"),
                 shown(r.sink.name) + " is not a valid ring name: 1 to " +
                     std::to_string(ring_name_max) + " characters of [A-Za-z0-9_.-]");
        // rte_ring names are global to the DPDK process (and its secondaries).
        if (!ring_names_.insert(r.sink.name).second)
            fail(ring->loc, s.path("ring"),
                 "ring " + shown(r.sink.name) + " is already the sink of another receiver");
        if (const Field* x = s.get("size")) {
            const int64_t n = integer(*x, s.path("size"), ring_size_min, ring_size_max);
            if ((n & (n - 1)) != 0)
                fail(x->loc, s.path("size"),
                     "must be a power of two (rte_ring), got " + std::to_string(n));
            r.sink.ring_size = static_cast<uint32_t>(n);
        }
    } else {
        if (const Field* x = s.get("size"))
            fail(x->loc, s.path("size"), "size applies to ring sinks only");
        r.sink.kind = SinkKind::port;
        r.sink.port_index = port_ref(*port, s.path("port"), c);
        r.sink.name = c.ports[r.sink.port_index].name;
    }

    if (const Field* x = m.get("joins")) {
        const std::vector<Field> js = sequence(*x, m.path("joins"));
        // (port, group) -> index of the join: duplicates found in O(1) each, so a
        // receiver with 100k static joins loads in linear time.
        std::unordered_map<addr::IpAddr, std::vector<std::pair<size_t, size_t>>> seen;
        for (size_t i = 0; i < js.size(); ++i) {
            const std::string jpath = index(m.path("joins"), i);
            Join j = read_join(js[i], jpath, c);
            auto& same_group = seen[j.group];
            for (const auto& [port, k] : same_group)
                if (port == j.port_index)
                    fail(j.location, jpath,
                         "duplicate join of " + j.group.to_string() + " on port " + j.port +
                             " (also joins[" + std::to_string(k) + "], line " +
                             std::to_string(r.joins[k].location.line) +
                             "); one receiver has one filter per port and group");
            same_group.emplace_back(j.port_index, r.joins.size());
            r.joins.push_back(std::move(j));
        }
    }
    return r;
}

Join Reader::read_join(const Field& f, const std::string& path, const Config& c) {
    const Map m(*this, f.value, path, f.loc, {"port", "group", "mode", "sources"});
    Join j;
    j.location = f.loc;
    j.port_index = port_ref(m.require("port"), m.path("port"), c);
    j.port = c.ports[j.port_index].name;

    const Field& group = m.require("group");
    j.group = address(group, m.path("group"));
    if (!j.group.is_multicast())
        fail(group.loc, m.path("group"), j.group.to_string() + " is not a multicast address");

    std::vector<IpAddr> sources;
    const Field* src = m.get("sources");
    if (src != nullptr) {
        const std::vector<Field> list = sequence(*src, m.path("sources"));
        // source -> its index: a repeat found in O(1), so a join of 65,536 sources loads in
        // linear time (a scan of the earlier ones took 10 s).
        std::unordered_map<IpAddr, size_t> first;
        first.reserve(list.size());
        sources.reserve(list.size());
        for (size_t i = 0; i < list.size(); ++i) {
            const std::string spath = index(m.path("sources"), i);
            const IpAddr a = address(list[i], spath);
            if (a.family() != j.group.family())
                fail(list[i].loc, spath,
                     "source " + a.to_string() + " is " + std::string(a.is_v4() ? "IPv4" : "IPv6") +
                         " but group " + j.group.to_string() + " is " +
                         (j.group.is_v4() ? "IPv4" : "IPv6"));
            if (a.is_multicast() || a.is_unspecified())
                fail(list[i].loc, spath, "source " + a.to_string() + " is not a unicast address");
            if (const auto [it, fresh] = first.emplace(a, i); !fresh)
                fail(list[i].loc, spath,
                     "source " + a.to_string() + " is listed twice (also sources[" +
                         std::to_string(it->second) + "])");
            sources.push_back(a);
        }
        if (sources.size() > c.limits.max_filter_sources)
            fail(src->loc, m.path("sources"),
                 std::to_string(sources.size()) + " sources exceed limits.max_filter_sources (" +
                     std::to_string(c.limits.max_filter_sources) + ")");
    }

    // Without mode: sources mean a source-specific join, no sources an any-source join.
    FilterMode mode = sources.empty() ? FilterMode::exclude : FilterMode::include;
    const Field* mode_field = m.get("mode");
    if (mode_field != nullptr)
        mode = keyword<FilterMode>(
            *mode_field, m.path("mode"),
            {{"include", FilterMode::include}, {"exclude", FilterMode::exclude}});
    if (mode == FilterMode::include && sources.empty())
        fail(mode_field->loc, m.path("mode"),
             "include {} is no membership: list sources, or use exclude (or no mode) for "
             "any source");
    // RFC 4604 §2: in the SSM range only (S,G) channels exist (hosts should refuse and not
    // report non-source-specific requests); an SSM-aware network never serves an EXCLUDE join.
    if (!filter::ssm_allows(j.group, mode)) {
        if (mode_field != nullptr)
            fail(mode_field->loc, m.path("mode"),
                 j.group.to_string() +
                     " is a source-specific group (RFC 4607): only include mode is allowed");
        fail(group.loc, m.path("group"),
             j.group.to_string() +
                 " is a source-specific group (RFC 4607): join it with mode include and sources");
    }
    j.filter = FilterState{mode, SourceSet::from_unsorted(std::move(sources))};
    return j;
}

} // namespace

Config load_string(std::string_view text, std::string_view name_for_messages) {
    Reader r{std::string(name_for_messages)};
    return r.read(text);
}

void check_host(const Config& c) {
    for (size_t i = 0; i < c.ports.size(); ++i) {
        const Port& p = c.ports[i];
        if (p.kind != DeviceKind::vdev)
            continue;
        if (auto why = devices::check_device_on_host(p.device))
            throw ConfigError(c.file, p.device_location, index("ports", i) + ".device", *why);
    }
}

Config load_file(const std::string& path) {
    // A directory opens as a stream on Linux and reads as nothing; "expected a mapping"
    // would then blame a file that does not exist.
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
        throw ConfigError(path, {}, "(file)",
                          std::string(std::strerror(EISDIR)) + " (expected a YAML file)");
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        const int err = errno;
        throw ConfigError(path, {}, "(file)", std::strerror(err != 0 ? err : ENOENT));
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad())
        throw ConfigError(path, {}, "(file)", "read error");
    return load_string(text.str(), path);
}

} // namespace mcfwd::config
