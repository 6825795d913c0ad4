// LAPACK's C interface (row-major solvers and factorisations).
#ifndef CLAPACKE_SHIM_H
#define CLAPACKE_SHIM_H
#include <lapacke.h>
#endif
