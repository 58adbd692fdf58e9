#pragma once

#include <string>

namespace kam {

// A random (version 4) UUID in its canonical 36-character form.
std::string NewUuid();

}  // namespace kam
