// XGBoost's C API (Debian's libxgboost-dev): boosters, DMatrix, prediction with
// feature contributions (TreeSHAP).
#include <xgboost/c_api.h>
