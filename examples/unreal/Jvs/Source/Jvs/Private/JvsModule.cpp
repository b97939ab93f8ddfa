#include "Modules/ModuleManager.h"

// libjvs needs no initialisation: the module only exists to host the Blueprint library.
IMPLEMENT_MODULE(FDefaultModuleImpl, Jvs)
