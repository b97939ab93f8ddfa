// Test-only fault injection: with JVS_FAULT_KILL_AT=<point>[#<n>] in the environment, the process
// kills itself (SIGKILL: no cleanup, no destructors, like a power cut) the n-th time (default 1st)
// it passes <point>. Unset, a fault point costs one relaxed atomic load.
#pragma once

namespace jvs {

void fault_point(const char *name);

// Every point compiled into the library, so crash tests can enumerate them.
const char *const *fault_point_names();

}  // namespace jvs
