// GDAL's C API: rasters, vectors (OGR), rasterisation, warping, spatial references and the
// error/option helpers.
#ifndef CGDAL_SHIM_H
#define CGDAL_SHIM_H
#include <gdal.h>
#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <ogr_srs_api.h>
#include <ogr_api.h>
#include <gdal_alg.h>
#include <gdal_utils.h>
#endif
