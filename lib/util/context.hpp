// The per-call context of a long operation: progress events (throttled) and cancellation, polled
// between files. Cancellation comes from the handle's interrupt counter or a non-zero callback return.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace jvs {

using EventSink = std::function<int32_t(const std::string &event_json)>;

class OpContext {
   public:
    OpContext(std::string op, EventSink sink, const std::atomic<uint64_t> *interrupt_counter);
    OpContext(const OpContext &) = delete;

    const std::string &op() const { return op_; }
    // Throws E_CANCELLED if the handle was interrupted since the call began or the callback asked.
    void check_cancelled();
    // Starts a phase (always emitted) and sets its totals.
    void phase(const std::string &name, uint64_t total, uint64_t bytes_total = 0);
    // Advances the current phase; emits at most ~10 events a second. Also checks cancellation.
    void advance(uint64_t done_delta, uint64_t bytes_delta = 0);
    void warning(const std::string &message);

    // While a Nested scope lives, the work inside it belongs to the current phase: phase() calls
    // from shared code (build_manifest_from_dir's scan and hash) only poll cancellation, and
    // advance() adds their bytes to bytes_done without touching done/total. verify uses it so its
    // documented `verify` phase (done/total = snapshots) is never replaced by an inner scan/hash.
    class Nested {
       public:
        explicit Nested(OpContext &ctx) : ctx_(ctx) { ++ctx_.nested_; }
        ~Nested() { --ctx_.nested_; }
        Nested(const Nested &) = delete;
        Nested &operator=(const Nested &) = delete;

       private:
        OpContext &ctx_;
    };

   private:
    void emit(bool force);
    std::string op_;
    EventSink sink_;
    const std::atomic<uint64_t> *interrupt_counter_;
    uint64_t interrupt_at_start_ = 0;
    bool cancelled_ = false;
    int nested_ = 0;
    std::string phase_;
    uint64_t done_ = 0, total_ = 0, bytes_done_ = 0, bytes_total_ = 0;
    std::chrono::steady_clock::time_point last_emit_{};
};

}  // namespace jvs
