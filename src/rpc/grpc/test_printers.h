// gtest printers for the RPC structs, so a failed comparison shows fields instead of bytes.
// Tests only. Printed through the wire form: a field ToProto forgets is caught by
// convert_test's "fields not written" check, not here.
#pragma once

#include <ostream>

#include "rpc/grpc/convert.h"

namespace dsched {

inline void PrintTo(const TaskDispatch& d, std::ostream* os) {
  rpc::TaskDispatch m;
  ToProto(d, &m);
  *os << "TaskDispatch{" << m.ShortDebugString() << "}";
}

inline void PrintTo(const TaskEvent& e, std::ostream* os) {
  rpc::TaskEvent m;
  ToProto(e, &m);
  *os << "TaskEvent{" << m.ShortDebugString() << "}";
}

}  // namespace dsched
