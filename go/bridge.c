// The C side of the progress callback: libjvs passes `const char *`, cgo exports take `char *`.
#include <jvs.h>

#include "_cgo_export.h"

int32_t jvsGoEventShim(const char *event_json, void *user_data) {
    return jvsGoEvent((char *)event_json, user_data);
}
