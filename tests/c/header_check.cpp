// jvs.h must compile as C++ (this file) and as C99 (tests/c/abi_test.c).
#include "jvs.h"
int main() { return jvs_abi_version() == JVS_ABI_VERSION ? 0 : 1; }
