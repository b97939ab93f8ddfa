// Placeholder: being implemented (issue "Integrity and upkeep").
#include "ops/ops.hpp"
#include "util/error.hpp"

namespace jvs {
Doc op_diff(const Session &, const DiffOptions &, OpContext &) {
    fail("E_METHOD_UNKNOWN", "diff is not available yet", "upgrade jvs");
}
}  // namespace jvs
