// Test-only fault injection at named points, two kinds, both off unless the environment asks:
//   JVS_FAULT_KILL_AT=<point>[#<n>]          the process kills itself (SIGKILL: no cleanup, no
//                                            destructors, like a power cut) the n-th time (default
//                                            1st) it passes <point>;
//   JVS_FAULT_FAIL_AT=<point>[#<n>][=<code>] the n-th pass throws jvs::Error <code> (default E_IO;
//                                            e.g. E_NO_SPACE), as if the step that follows the point
//                                            had failed: a full disk, a permission refused.
// Unset, a fault point costs one relaxed atomic load.
#pragma once

namespace jvs {

void fault_point(const char *name);

// Every point compiled into the library, so crash and failure tests can enumerate them.
const char *const *fault_point_names();

}  // namespace jvs
