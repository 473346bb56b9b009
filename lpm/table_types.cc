#include "lpm/table_types.h"

namespace edgefwd::lpm {

std::string_view ToString(LpmError e) {
  switch (e) {
    case LpmError::kOk:
      return "ok";
    case LpmError::kInvalidLength:
      return "invalid prefix length";
    case LpmError::kInvalidNextHop:
      return "invalid next hop";
    case LpmError::kNotFound:
      return "prefix not found";
    case LpmError::kCapacityExhausted:
      return "capacity exhausted";
  }
  return "unknown error";
}

}  // namespace edgefwd::lpm
