#include "util/context.hpp"

#include <nlohmann/json.hpp>

#include "util/error.hpp"

namespace jvs {

namespace {
// What a cancelled operation left behind, in words that hold for that operation.
std::string cancel_hint(const std::string &op) {
    if (op == "restore") return "the worktree may be partly restored (head did not move); run the restore again";
    if (op == "snapshot" || op == "worktree_create" || op == "worktree_fork")
        return "nothing was published; run it again when ready";
    if (op == "gc_run")
        return "snapshots already deleted stay deleted, the others are kept; run the same plan again to finish";
    if (op == "doctor") return "repairs already made stay made; run it again when ready";
    return "nothing was changed; run it again when ready";  // verify, diff, gc_plan: they only read
}
}  // namespace

OpContext::OpContext(std::string op, EventSink sink, const std::atomic<uint64_t> *interrupt_counter)
    : op_(std::move(op)), sink_(std::move(sink)), interrupt_counter_(interrupt_counter) {
    if (interrupt_counter_) interrupt_at_start_ = interrupt_counter_->load(std::memory_order_relaxed);
}

void OpContext::check_cancelled() {
    if (interrupt_counter_ && interrupt_counter_->load(std::memory_order_relaxed) != interrupt_at_start_)
        cancelled_ = true;
    if (cancelled_) fail("E_CANCELLED", op_ + " was cancelled", cancel_hint(op_), {{"op", op_}});
}

void OpContext::phase(const std::string &name, uint64_t total, uint64_t bytes_total) {
    if (nested_) {
        check_cancelled();
        return;
    }
    phase_ = name;
    done_ = 0;
    bytes_done_ = 0;
    total_ = total;
    bytes_total_ = bytes_total;
    emit(true);
    check_cancelled();
}

void OpContext::advance(uint64_t done_delta, uint64_t bytes_delta) {
    if (!nested_) done_ += done_delta;
    bytes_done_ += bytes_delta;
    emit(false);
    check_cancelled();
}

void OpContext::warning(const std::string &message) {
    if (!sink_) return;
    nlohmann::json ev = {{"schema", 1}, {"kind", "warning"}, {"op", op_}, {"message", message}};
    if (sink_(ev.dump()) != 0) cancelled_ = true;
}

void OpContext::emit(bool force) {
    if (!sink_) return;
    auto now = std::chrono::steady_clock::now();
    // Throttled, except the final done == total of a phase with a known total (a phase without one,
    // or nested work that leaves done alone, would otherwise never be throttled).
    const bool final_update = total_ > 0 && done_ == total_;
    if (!force && now - last_emit_ < std::chrono::milliseconds(100) && !final_update) return;
    last_emit_ = now;
    nlohmann::json ev = {{"schema", 1}, {"kind", "progress"}, {"op", op_},   {"phase", phase_},
                         {"done", done_}, {"total", total_}};
    if (bytes_total_ || bytes_done_) {
        ev["bytes_done"] = bytes_done_;
        ev["bytes_total"] = bytes_total_;
    }
    if (sink_(ev.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)) != 0) cancelled_ = true;
}

}  // namespace jvs
