// OpenMPI defines its predefined handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, …) as
// macros that take the address of library globals; Swift cannot import them, so these
// static inline functions hand them over.
#ifndef CMPI_SHIM_H
#define CMPI_SHIM_H

#include <mpi.h>

static inline MPI_Comm cmpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Comm cmpi_comm_null(void) { return MPI_COMM_NULL; }

static inline MPI_Datatype cmpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype cmpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype cmpi_int32(void) { return MPI_INT32_T; }
static inline MPI_Datatype cmpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Datatype cmpi_uint8(void) { return MPI_UINT8_T; }

static inline MPI_Op cmpi_op_sum(void) { return MPI_SUM; }
static inline MPI_Op cmpi_op_max(void) { return MPI_MAX; }
static inline MPI_Op cmpi_op_min(void) { return MPI_MIN; }

static inline void *cmpi_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Errhandler cmpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline int cmpi_undefined(void) { return MPI_UNDEFINED; }
static inline int cmpi_any_source(void) { return MPI_ANY_SOURCE; }
static inline MPI_Request cmpi_request_null(void) { return MPI_REQUEST_NULL; }

#endif
