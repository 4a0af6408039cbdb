// doc_sync: checks (or rewrites) the source snippets and program outputs quoted in Markdown pages.
//
// Markers. In a source file a snippet lies between two lines `//! [name]` (as in Boost.Hana's
// examples); marker lines of other snippets inside it are dropped and the common indentation is
// removed. In a page, a line
//   <!-- snippet: path/from/root.cpp#name -->   is followed by a ```cpp block: that snippet;
//   <!-- output: program-name -->              is followed by a ```text block: that program's
//                                               standard output, the program given as
//                                               --program program-name=path/to/executable;
//   <!-- output: program-name --flag=1 -->     the same, run with the arguments that follow
//                                               the name (letters, digits and - _ = . , only).
// Fenced blocks that follow no marker are the page's own and are left alone.
//
// Modes.
//   doc_sync --check  PAGE.md... --root REPO_ROOT [--program NAME=EXECUTABLE]...
//     exit 0 if every quoted block equals its source, 1 if some differ (each reported with
//     the first differing line), 2 on an error (unknown snippet or program, a program that
//     fails, a malformed page).
//   doc_sync --update PAGE.md... (same options)
//     rewrites the quoted blocks in place (a marker without a block gets one); a page is
//     written only if it changes, and not at all if any error is found.

#include <sys/wait.h>  // WIFEXITED, WEXITSTATUS: the status pclose returns

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace fs = std::filesystem;

namespace {

// Any condition that stops doc_sync before it can compare (exit status 2).
class failure : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

using lines = std::vector<std::string>;

enum class mode { check, update };

struct options {
    mode what = mode::check;
    std::vector<fs::path> pages;
    fs::path root;
    std::map<std::string, fs::path, std::less<>> programs;
};

constexpr std::string_view usage =
    "usage: doc_sync (--check | --update) PAGE.md... --root REPO_ROOT [--program NAME=EXECUTABLE]...";

std::string_view trim(std::string_view text) {
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string_view::npos) return {};
    const auto last = text.find_last_not_of(" \t");
    return text.substr(first, last - first + 1);
}

// The text between `prefix` and `suffix` when `line` (trimmed) is exactly prefix...suffix.
std::optional<std::string_view> between(std::string_view line, std::string_view prefix, std::string_view suffix) {
    line = trim(line);
    if (line.size() < prefix.size() + suffix.size() || !line.starts_with(prefix) || !line.ends_with(suffix)) return std::nullopt;
    return trim(line.substr(prefix.size(), line.size() - prefix.size() - suffix.size()));
}

options parse_arguments(int argc, char** argv) {
    options result;
    bool mode_given = false;
    bool root_given = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view argument = argv[i];
        const auto value = [&]() -> std::string_view {
            if (i + 1 == argc) throw failure(fmt::format("{} needs a value\n{}", argument, usage));
            return argv[++i];
        };
        if (argument == "--check" || argument == "--update") {
            if (mode_given) throw failure(fmt::format("give --check or --update once\n{}", usage));
            result.what = argument == "--check" ? mode::check : mode::update;
            mode_given = true;
        } else if (argument == "--root") {
            result.root = value();
            root_given = true;
        } else if (argument == "--program") {
            const std::string_view binding = value();
            const auto equals = binding.find('=');
            if (equals == std::string_view::npos || equals == 0 || equals + 1 == binding.size())
                throw failure(fmt::format("--program {}: expected NAME=EXECUTABLE", binding));
            const auto [_, added] = result.programs.emplace(std::string(binding.substr(0, equals)), fs::path(binding.substr(equals + 1)));
            if (!added) throw failure(fmt::format("--program {}: program given twice", binding.substr(0, equals)));
        } else if (argument.starts_with("--")) {
            throw failure(fmt::format("unknown option {}\n{}", argument, usage));
        } else {
            result.pages.emplace_back(argument);
        }
    }
    if (!mode_given || !root_given || result.pages.empty()) throw failure(std::string(usage));
    return result;
}

// A text file as lines, without their '\n' (nor a '\r' before it).
lines read_lines(const fs::path& path, bool* ends_with_newline = nullptr) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw failure(fmt::format("cannot read {}", path.string()));
    std::stringstream buffer;
    buffer << in.rdbuf();
    const std::string text = buffer.str();
    lines result;
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        std::string line = text.substr(start, end - start);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        result.push_back(std::move(line));
        start = end + 1;
    }
    if (ends_with_newline) *ends_with_newline = text.empty() || text.back() == '\n';
    return result;
}

// Source files and program outputs, each read or run once however many blocks quote it.
class sources {
public:
    explicit sources(const options& given) : root_(given.root), programs_(given.programs) {}

    // The snippet `name` of the file at `path` (relative to the root).
    lines snippet(const std::string& path, const std::string& name) {
        const lines& file = file_lines(path);
        std::vector<std::size_t> markers;
        for (std::size_t i = 0; i < file.size(); ++i)
            if (snippet_marker(file[i]) == name) markers.push_back(i);
        if (markers.empty()) throw failure(fmt::format("{} has no snippet '{}' (no line `//! [{}]`)", path, name, name));
        if (markers.size() != 2)
            throw failure(fmt::format("{}: snippet '{}' has {} marker lines `//! [{}]`, expected 2 (one opening, one closing)",
                                      path, name, markers.size(), name));
        lines body;
        for (std::size_t i = markers[0] + 1; i < markers[1]; ++i)
            if (!snippet_marker(file[i])) body.push_back(file[i]);  // markers of nested snippets
        return dedent(std::move(body));
    }

    // The standard output of `command` (a program's name, then its arguments, separated by
    // spaces), which must exit with status 0.
    const lines& output(const std::string& command) {
        if (const auto found = outputs_.find(command); found != outputs_.end()) return found->second;
        const std::string name = command.substr(0, command.find(' '));
        const std::string arguments = command.substr(name.size());
        const auto program = programs_.find(name);
        if (program == programs_.end())
            throw failure(fmt::format("unknown program '{}': pass --program {}=PATH_TO_EXECUTABLE", name, name));
        // The arguments reach a shell unquoted: only characters that it reads literally.
        const auto literal = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || std::strchr(" -_=.,", c); };
        if (!std::all_of(arguments.begin(), arguments.end(), literal))
            throw failure(fmt::format("the arguments of program '{}' ('{}') may hold only letters, digits and - _ = . ,", name,
                                      trim(arguments)));
        return outputs_.emplace(command, run(command, quoted(program->second) + arguments)).first->second;
    }

private:
    static std::optional<std::string> snippet_marker(std::string_view line) {
        if (const auto name = between(line, "//! [", "]")) return std::string(*name);
        return std::nullopt;
    }

    const lines& file_lines(const std::string& path) {
        if (const auto found = files_.find(path); found != files_.end()) return found->second;
        return files_.emplace(path, read_lines(root_ / path)).first->second;
    }

    // Removes the indentation common to the non-blank lines, so a snippet from inside a
    // function reads as if written at the left margin.
    static lines dedent(lines body) {
        std::size_t common = std::string::npos;
        for (const auto& line : body)
            if (!trim(line).empty()) common = std::min(common, line.find_first_not_of(" \t"));
        for (auto& line : body) line = trim(line).empty() ? std::string() : line.substr(common);
        return body;
    }

    // popen runs a shell: the path is single-quoted so that spaces and the like stay literal.
    static std::string quoted(const fs::path& executable) {
        std::string result = "'";
        for (const char c : executable.string()) result += c == '\'' ? std::string("'\\''") : std::string(1, c);
        return result + "'";
    }

    static lines run(const std::string& name, const std::string& shell_command) {
        std::fflush(nullptr);
        FILE* pipe = popen(shell_command.c_str(), "r");
        if (pipe == nullptr) throw failure(fmt::format("cannot run program '{}' ({})", name, shell_command));
        std::string text;
        char chunk[4096];
        for (std::size_t read; (read = std::fread(chunk, 1, sizeof chunk, pipe)) > 0;) text.append(chunk, read);
        const int status = pclose(pipe);
        if (status == -1) throw failure(fmt::format("cannot run program '{}' ({})", name, shell_command));
        if (!WIFEXITED(status))
            throw failure(fmt::format("program '{}' ({}) was killed (wait status {}); its output is not quoted", name,
                                      shell_command, status));
        if (WEXITSTATUS(status) != 0)
            throw failure(fmt::format("program '{}' ({}) exited with status {}; its output is not quoted", name,
                                      shell_command, WEXITSTATUS(status)));
        lines result;
        std::istringstream in(text);
        for (std::string line; std::getline(in, line);) result.push_back(std::move(line));
        return result;
    }

    fs::path root_;
    std::map<std::string, fs::path, std::less<>> programs_;
    std::map<std::string, lines> files_;
    std::map<std::string, lines> outputs_;
};

// One quoted block of a page: its marker, and what the block between the fences must hold.
struct quoted_block {
    std::size_t marker_line;  // 0-based index of the marker in the page
    std::string description;  // "snippet examples/a.cpp#name" or "output of program"
    std::string fence;        // the opening fence: ```cpp or ```text
    lines expected;
};

// The first line where `actual` and `expected` differ, 0-based; nullopt if they are equal.
std::optional<std::size_t> first_difference(const lines& actual, const lines& expected) {
    const auto [a, e] = std::mismatch(actual.begin(), actual.end(), expected.begin(), expected.end());
    if (a == actual.end() && e == expected.end()) return std::nullopt;
    return static_cast<std::size_t>(a - actual.begin());
}

std::string line_or_end(const lines& block, std::size_t i) {
    return i < block.size() ? fmt::format("`{}`", block[i]) : std::string("(end of block)");
}

bool is_fence(std::string_view line) {
    return trim(line).starts_with("```");
}

class page_sync {
public:
    page_sync(const options& given, sources& from, fs::path page) : options_(given), sources_(from), page_(std::move(page)) {
        display_ = page_.string();
        std::error_code ignored;
        if (const auto relative = fs::proximate(page_, options_.root, ignored); !ignored && !relative.empty() &&
                                                                                 !relative.string().starts_with(".."))
            display_ = relative.string();
    }

    // Compares every quoted block of the page with what it must hold; in check mode reports
    // each difference. The page itself is not written here (see write).
    std::size_t run() {
        bool ends_with_newline = true;
        const lines page = read_lines(page_, &ends_with_newline);
        lines rewritten;
        std::size_t stale = 0;
        std::size_t quoted = 0;
        bool in_own_fence = false;  // inside a fenced block that follows no marker
        for (std::size_t i = 0; i < page.size(); ++i) {
            const std::string& line = page[i];
            rewritten.push_back(line);
            if (is_fence(line)) in_own_fence = !in_own_fence;
            if (in_own_fence) continue;
            auto block = quoted_block_at(page, i);
            if (!block) continue;
            ++quoted;
            // The existing block: an opening fence right after the marker, up to its closing fence.
            std::size_t end = i + 1;  // one past the block's last line
            lines actual;             // the opening fence and the content
            if (end < page.size() && is_fence(page[end])) {
                actual.push_back(page[end]);
                std::size_t close = end + 1;
                while (close < page.size() && trim(page[close]) != "```") actual.push_back(page[close++]);
                if (close == page.size())
                    throw failure(fmt::format("{}:{}: the block after this marker has no closing ```", display_, i + 1));
                end = close + 1;
            }
            lines expected{block->fence};
            expected.insert(expected.end(), block->expected.begin(), block->expected.end());
            if (const auto at = first_difference(actual, expected)) {
                ++stale;
                if (options_.what == mode::check) report(*block, actual, expected, *at);
            }
            rewritten.insert(rewritten.end(), expected.begin(), expected.end());
            rewritten.emplace_back("```");
            i = end - 1;
        }
        rewritten_ = std::move(rewritten);
        ends_with_newline_ = ends_with_newline;
        stale_ = stale;
        quoted_ = quoted;
        if (options_.what == mode::check && stale == 0) fmt::print("{}: all {} quoted blocks up to date\n", display_, quoted);
        return stale;
    }

    // Writes the page with its blocks rewritten, if any was out of date.
    void write() const {
        if (stale_ > 0) {
            std::ofstream out(page_, std::ios::binary | std::ios::trunc);
            for (std::size_t i = 0; i < rewritten_.size(); ++i) {
                out << rewritten_[i];
                if (i + 1 < rewritten_.size() || ends_with_newline_) out << '\n';
            }
            if (!out) throw failure(fmt::format("cannot write {}", page_.string()));
        }
        fmt::print("{}: {} of {} quoted blocks rewritten\n", display_, stale_, quoted_);
    }

private:
    // The block that the marker on line i asks for, if line i is a marker.
    std::optional<quoted_block> quoted_block_at(const lines& page, std::size_t i) {
        const std::string_view line = page[i];
        if (const auto reference = between(line, "<!-- snippet:", "-->")) {
            const auto hash = reference->rfind('#');
            if (hash == std::string_view::npos || hash == 0 || hash + 1 == reference->size())
                throw failure(fmt::format("{}:{}: expected <!-- snippet: path/to/file#name -->", display_, i + 1));
            const std::string path(reference->substr(0, hash));
            const std::string name(reference->substr(hash + 1));
            return quoted_block{i, fmt::format("snippet {}", *reference), "```cpp", sources_.snippet(path, name)};
        }
        if (const auto program = between(line, "<!-- output:", "-->")) {
            if (program->empty()) throw failure(fmt::format("{}:{}: expected <!-- output: program-name -->", display_, i + 1));
            const std::string name(*program);
            return quoted_block{i, fmt::format("output of {}", name), "```text", sources_.output(name)};
        }
        // A near miss (`<!-- snippet ...` without the colon, or not alone on its line) is a
        // mistake, not prose: say so rather than silently quote nothing.
        const auto trimmed = trim(line);
        if (trimmed.starts_with("<!-- snippet") || trimmed.starts_with("<!-- output"))
            throw failure(fmt::format("{}:{}: malformed marker `{}`", display_, i + 1, trimmed));
        return std::nullopt;
    }

    void report(const quoted_block& block, const lines& actual, const lines& expected, std::size_t at) const {
        if (actual.empty()) {
            fmt::print(stderr, "{}:{}: {}: no fenced block follows the marker\n", display_, block.marker_line + 1, block.description);
            return;
        }
        fmt::print(stderr, "{}:{}: {}: the quoted block differs from the {}\n", display_, block.marker_line + 1, block.description,
                   block.description.starts_with("snippet") ? "source" : "program's output");
        // The opening fence (index 0 of the block) is on the line after the marker.
        fmt::print(stderr, "  first difference at line {} of the page{}:\n", block.marker_line + 2 + at,
                   at == 0 ? " (the opening fence)" : "");
        fmt::print(stderr, "    page:     {}\n", line_or_end(actual, at));
        fmt::print(stderr, "    expected: {}\n", line_or_end(expected, at));
        if (actual.size() != expected.size())
            fmt::print(stderr, "  the page's block has {} lines, the expected one {}\n", actual.size() - 1, expected.size() - 1);
    }

    const options& options_;
    sources& sources_;
    fs::path page_;
    std::string display_;
    lines rewritten_;
    bool ends_with_newline_ = true;
    std::size_t stale_ = 0;
    std::size_t quoted_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
    try {
        const options given = parse_arguments(argc, argv);
        sources from(given);
        // Every page is compared before any is written, so an error leaves all of them untouched.
        std::vector<page_sync> pages;
        std::size_t stale = 0;
        for (const auto& page : given.pages) stale += pages.emplace_back(given, from, page).run();
        if (given.what == mode::update)
            for (const auto& page : pages) page.write();
        if (given.what == mode::check && stale > 0) {
            fmt::print(stderr,
                       "doc_sync: {} quoted block(s) out of date; rewrite them with `doc_sync --update` "
                       "(the build target update-docs)\n",
                       stale);
            return 1;
        }
        return 0;
    } catch (const std::exception& e) {  // a failure, or a filesystem or allocation error
        fmt::print(stderr, "doc_sync: error: {}\n", e.what());
        return 2;
    }
}
