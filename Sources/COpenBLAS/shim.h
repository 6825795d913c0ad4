// CBLAS plus OpenBLAS's own extensions (openblas_get_config, thread control).
#ifndef COPENBLAS_SHIM_H
#define COPENBLAS_SHIM_H
#include <cblas.h>
#endif
