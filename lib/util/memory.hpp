// Handing memory back to the system between the phases of an operation on a large tree.
#pragma once

namespace jvs {

// Returns the allocator's free memory to the system (glibc's malloc_trim; nothing elsewhere).
// glibc keeps freed small blocks for reuse, so a table built from many small ones and then copied
// (a scan stitched into one vector) would otherwise keep costing its size after it is gone.
void release_free_memory();

}  // namespace jvs
