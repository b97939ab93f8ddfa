// A small parallel-for for I/O-and-hash bound work: workers pull indices from a shared counter; the
// calling thread reports progress and polls cancellation; the first exception stops everyone and is
// rethrown on the calling thread.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include "util/context.hpp"

namespace jvs {

// At least 4 threads even on fewer cores: the work waits on I/O (FUSE round trips on JuiceFS took
// a third less time with 4 threads than with 2 on a 2-core machine), and hashing from the page
// cache loses nothing measurable to the extra threads. At most 8.
inline unsigned worker_count() {
    unsigned n = std::thread::hardware_concurrency();
    return n < 4 ? 4 : (n > 8 ? 8 : n);
}

// What one task did, for progress: items finished and bytes processed.
struct TaskDone {
    size_t items = 0;
    uint64_t bytes = 0;
};

// The engine of both forms below: `tasks` tasks pulled by the workers.
inline void parallel_tasks(size_t tasks, OpContext *ctx, const std::function<TaskDone(size_t)> &task) {
    if (tasks == 0) return;
    const size_t n = tasks;
    std::atomic<size_t> next{0};
    std::atomic<size_t> done{0};      // items
    std::atomic<size_t> finished{0};  // tasks
    std::atomic<uint64_t> bytes{0};
    std::atomic<bool> stop{false};
    std::exception_ptr first_error;
    std::mutex mu;
    std::condition_variable cv;
    auto worker = [&] {
        while (!stop.load(std::memory_order_relaxed)) {
            size_t i = next.fetch_add(1);
            if (i >= n) break;
            try {
                TaskDone t = task(i);
                bytes.fetch_add(t.bytes, std::memory_order_relaxed);
                done.fetch_add(t.items);
            } catch (...) {
                std::lock_guard<std::mutex> g(mu);
                if (!first_error) first_error = std::current_exception();
                stop = true;
            }
            finished.fetch_add(1);
        }
        cv.notify_all();
    };
    unsigned threads = static_cast<unsigned>(std::min<size_t>(worker_count(), n));
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; t++) pool.emplace_back(worker);
    size_t reported = 0;
    uint64_t reported_bytes = 0;
    try {
        for (;;) {
            {
                std::unique_lock<std::mutex> lk(mu);
                cv.wait_for(lk, std::chrono::milliseconds(50));
            }
            size_t d = done.load();
            uint64_t b = bytes.load();
            if (ctx) ctx->advance(d - reported, b - reported_bytes);  // may throw E_CANCELLED
            reported = d;
            reported_bytes = b;
            if (finished.load() >= n || stop.load()) break;
        }
    } catch (...) {
        stop = true;
        for (auto &t : pool) t.join();
        throw;
    }
    for (auto &t : pool) t.join();
    if (first_error) std::rethrow_exception(first_error);
    if (ctx && done.load() > reported) ctx->advance(done.load() - reported, bytes.load() - reported_bytes);
}

// fn(i) for every i < n, on the workers; fn returns the bytes it processed (for progress).
inline void parallel_for(size_t n, OpContext *ctx, const std::function<uint64_t(size_t)> &fn) {
    parallel_tasks(n, ctx, [&](size_t i) { return TaskDone{1, fn(i)}; });
}

// Where batches for parallel_for_batches start: a new batch wherever `key(i)` changes (the shared
// object, e.g. the directory an item is written in), and after `max_items` items or once
// `max_bytes` of work are gathered, so large work still spreads over the workers.
inline std::vector<size_t> batch_starts(size_t n, const std::function<std::string_view(size_t)> &key,
                                        const std::function<uint64_t(size_t)> &bytes, size_t max_items = 256,
                                        uint64_t max_bytes = 8u << 20) {
    std::vector<size_t> starts;
    std::string_view current;
    size_t count = 0;
    uint64_t gathered = 0;
    for (size_t i = 0; i < n; i++) {
        const std::string_view k = key(i);
        if (i == 0 || k != current || count == max_items || gathered >= max_bytes)
            starts.push_back(i), current = k, count = 0, gathered = 0;
        count++;
        gathered += bytes(i);
    }
    return starts;
}

// The same, with the items in batches run one after the other on one worker: `starts` holds each
// batch's first item, in increasing order (the last batch ends at n). Work that serialises on a
// shared kernel object (links into one directory take its lock) is batched by that object, so
// the workers do not queue on each other's.
inline void parallel_for_batches(const std::vector<size_t> &starts, size_t n, OpContext *ctx,
                                 const std::function<uint64_t(size_t)> &fn) {
    parallel_tasks(starts.size(), ctx, [&](size_t b) {
        const size_t end = b + 1 < starts.size() ? starts[b + 1] : n;
        TaskDone t;
        for (size_t i = starts[b]; i < end; i++, t.items++) t.bytes += fn(i);
        return t;
    });
}

}  // namespace jvs
