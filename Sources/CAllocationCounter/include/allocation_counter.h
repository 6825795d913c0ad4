// Counts heap allocations of the whole process when this library is preloaded
// (LD_PRELOAD): its malloc family wraps glibc's and bumps one atomic counter.
// `landslide bench` preloads it to report heap allocations per training step.
#ifndef LANDSLIDE_ALLOCATION_COUNTER_H
#define LANDSLIDE_ALLOCATION_COUNTER_H

/// Allocation calls (malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign)
/// since the process started.
long landslide_allocation_count(void);

#endif
