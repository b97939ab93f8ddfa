// Placeholder: being implemented (issue "Integrity and upkeep").
#include "ops/ops.hpp"
#include "util/error.hpp"

namespace jvs {
Doc op_doctor(const Session &, const DoctorOptions &, OpContext &) {
    fail("E_METHOD_UNKNOWN", "doctor is not available yet", "upgrade jvs");
}
}  // namespace jvs
