// progress.cpp -- the one-line progress bar: the library's phases in a user's words, percent and
// ETA by bytes when the phase moves bytes (by items otherwise), fitted to the terminal width.
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "output.hpp"

namespace jvs_cli {

namespace {

struct PhaseWords {
    const char *label; // what the user sees
    const char *unit;  // what done/total count ("" = do not show the count)
};

// The library's phases (docs/API_REFERENCE.md §6) are stable names for programs; the CLI shows
// these words instead. An unknown phase (a newer library) is shown under its own name.
PhaseWords words_for(const std::string &op, const std::string &phase) {
    const bool worktree = op == "worktree_create" || op == "worktree_fork";
    if (phase == "scan")
        return {"Scanning", "entries"};
    if (phase == "copy")
        return {"Copying", "files"};
    if (phase == "clone")
        return {"Cloning", ""};
    if (phase == "hash")
        return {op == "restore" || worktree ? "Checking files" : "Hashing", "files"};
    if (phase == "sync")
        return {"Saving", ""};
    if (phase == "compare")
        return {"Comparing", "entries"};
    if (phase == "write")
        return {op == "restore" ? "Restoring" : "Filling worktree", "files"};
    if (phase == "verify")
        return {"Verifying", "snapshots"};
    if (phase == "load")
        return {"Reading snapshots", ""};
    if (phase == "plan")
        return {"Planning", ""};
    if (phase == "check")
        return {"Checking", op == "gc_run" ? "snapshots" : ""};
    if (phase == "delete")
        return {"Deleting", "snapshots"};
    if (phase == "inflate") // a snapshot the Go tool compressed
        return {"Decompressing", ""};
    if (phase == "expand")
        return {"Unpacking", "files"};
    return {nullptr, ""};
}

std::uint64_t field(const json &ev, const char *key) {
    if (ev.contains(key) && ev[key].is_number_unsigned())
        return ev[key].get<std::uint64_t>();
    if (ev.contains(key) && ev[key].is_number_integer())
        return static_cast<std::uint64_t>(std::max<std::int64_t>(0, ev[key].get<std::int64_t>()));
    return 0;
}

// "1.2/2.7 GiB" when both sides share a unit, else "512.0 KiB/2.7 GiB".
std::string byte_pair(std::uint64_t done, std::uint64_t total) {
    std::string d = human_bytes(done), t = human_bytes(total);
    const size_t ds = d.rfind(' '), ts = t.rfind(' ');
    if (ds != std::string::npos && ts != std::string::npos && d.substr(ds) == t.substr(ts))
        return d.substr(0, ds) + "/" + t;
    return d + "/" + t;
}

std::string clock(double seconds) {
    const long s = static_cast<long>(seconds + 0.5);
    char buf[32];
    if (s >= 3600)
        std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else
        std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
    return buf;
}

int terminal_columns() {
    winsize ws{};
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    if (const char *c = std::getenv("COLUMNS"); c != nullptr && std::atoi(c) > 0)
        return std::atoi(c);
    return 80;
}

// One progress line's parts: each segment's text and the room it may take within its phase (its
// widest form: it depends on the totals only).
struct Segment {
    std::string text;
    int room = 0;
};
struct Parts {
    std::string label;
    double fraction = -1; // of the phase, by bytes when it has a byte total, else by items; -1 unknown
    bool by_bytes = false;
    Segment pct, bytes, items, eta;
};

Parts parts_of(const json &ev, double elapsed) {
    constexpr int kWidestBytes = 10; // "1023.9 KiB"
    const std::string op = ev.value("op", ""), phase = ev.value("phase", "");
    const PhaseWords w = words_for(op, phase);
    const std::uint64_t done = field(ev, "done"), total = field(ev, "total");
    const std::uint64_t bdone = field(ev, "bytes_done"), btotal = field(ev, "bytes_total");
    Parts p;
    p.label = w.label != nullptr ? w.label : phase;
    // Bytes dominate the time of a phase that moves them: percent and ETA follow bytes there.
    p.by_bytes = btotal > 0;
    if (p.by_bytes)
        p.fraction = std::min(1.0, static_cast<double>(bdone) / static_cast<double>(btotal));
    else if (total > 0)
        p.fraction = std::min(1.0, static_cast<double>(done) / static_cast<double>(total));
    if (p.fraction >= 0) {
        p.pct = {std::to_string(static_cast<int>(p.fraction * 100)) + "%", 4};
        p.eta.room = 9; // "ETA 59:59": reserved before it shows and after it goes
    }
    // An ETA once the rate means something: a second in, some work done, some left.
    if (p.fraction > 0.01 && p.fraction < 1.0 && elapsed >= 1.0)
        p.eta.text = "ETA " + clock(elapsed * (1.0 - p.fraction) / p.fraction);
    if (p.by_bytes)
        p.bytes = {byte_pair(bdone, btotal), kWidestBytes + 1 + static_cast<int>(human_bytes(btotal).size())};
    else if (bdone > 0)
        p.bytes = {human_bytes(bdone) + (phase == "verify" ? " hashed" : ""), kWidestBytes + (phase == "verify" ? 7 : 0)};
    const std::string unit = w.unit[0] != '\0' ? std::string(" ") + w.unit : "";
    if (!unit.empty() && total > 0)
        p.items = {std::to_string(done) + "/" + std::to_string(total) + unit,
                   static_cast<int>(2 * std::to_string(total).size() + 1 + unit.size())};
    else if (!unit.empty() && done > 0)
        p.items = {std::to_string(done) + unit, 0};
    return p;
}

} // namespace

std::string progress_line(const json &ev, int columns, double elapsed) {
    Parts p = parts_of(ev, elapsed);
    // Segments by priority; each is kept whole or left out (chosen on its room, so the layout and
    // the bar's width stay put while the numbers move); the bar takes what room is left.
    const int limit = columns - 1; // the last column would wrap on some terminals
    std::vector<Segment *> order = {&p.pct, &p.eta, &p.bytes, &p.items};
    if (!p.by_bytes)
        std::swap(order[2], order[3]);
    int used = static_cast<int>(p.label.size());
    for (Segment *seg : order) {
        const int room = std::max(seg->room, static_cast<int>(seg->text.size()));
        if (room == 0)
            continue;
        if (used + 1 + room > limit)
            seg->text.clear();
        else
            used += 1 + room;
    }
    std::string bar;
    const int width = std::min(30, limit - used - 3);
    if (p.fraction >= 0 && width >= 10) {
        const int fill = static_cast<int>(p.fraction * width);
        bar = "[" + std::string(static_cast<size_t>(fill), '#') + std::string(static_cast<size_t>(width - fill), '-') + "]";
    }
    std::string text = p.label.substr(0, static_cast<size_t>(std::max(0, limit)));
    for (const std::string *seg : {&bar, &p.pct.text, &p.bytes.text, &p.items.text, &p.eta.text})
        if (!seg->empty())
            text += " " + *seg;
    return text;
}

void ProgressBar::update(const json &ev) {
    if (!enabled_)
        return;
    const auto now = std::chrono::steady_clock::now();
    const std::string key = ev.value("op", "") + "/" + ev.value("phase", "");
    const bool new_phase = key != phase_key_;
    if (new_phase) {
        phase_key_ = key;
        phase_start_ = now;
    }
    const std::uint64_t done = field(ev, "done"), total = field(ev, "total");
    const bool finished = total > 0 && done >= total;
    if (drawn_ && !new_phase && !finished && now - last_draw_ < std::chrono::milliseconds(100))
        return;
    last_draw_ = now;
    const double elapsed = std::chrono::duration<double>(now - phase_start_).count();
    const std::string text = progress_line(ev, terminal_columns(), elapsed);
    std::fprintf(stderr, "\r%s\033[K", text.c_str());
    std::fflush(stderr);
    drawn_ = true;
}

void ProgressBar::clear() {
    if (drawn_) {
        std::fprintf(stderr, "\r\033[K");
        std::fflush(stderr);
        drawn_ = false;
    }
}

} // namespace jvs_cli
