// Placeholder: being implemented (issue "Integrity and upkeep").
#include "ops/ops.hpp"
#include "util/error.hpp"

namespace jvs {
Doc op_gc_plan(const Session &, const GcPlanOptions &, OpContext &) { fail("E_METHOD_UNKNOWN", "gc is not available yet", "upgrade jvs"); }
Doc op_gc_run(const Session &, const GcRunOptions &, OpContext &) { fail("E_METHOD_UNKNOWN", "gc is not available yet", "upgrade jvs"); }
Doc op_gc_pin(const Session &, const PinOptions &) { fail("E_METHOD_UNKNOWN", "gc is not available yet", "upgrade jvs"); }
Doc op_gc_unpin(const Session &, const PinOptions &) { fail("E_METHOD_UNKNOWN", "gc is not available yet", "upgrade jvs"); }
Doc op_gc_pins(const Session &) { fail("E_METHOD_UNKNOWN", "gc is not available yet", "upgrade jvs"); }
}  // namespace jvs
