// The validation at kam-accounts' boundary: any request message a client can send (bytes that
// parse as CreateAccountRequest, UpdateAccountRequest or CreateManagerRequest) is answered with
// OK or an INVALID_ARGUMENT, never a crash or another code.

#include <cstdint>
#include <cstdlib>

#include "fuzz/fuzz_checks.h"
#include "kam/v1/accounts.pb.h"
#include "services/accounts/policy.h"
#include "services/accounts/validation.h"

using kam::fuzz::RequireOkOrInvalid;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static const kam::accounts::AccountsPolicy policy;
  const int length = static_cast<int>(size - 1);
  switch (data[0] % 3) {
    case 0: {
      kam::v1::CreateAccountRequest request;
      if (!request.ParseFromArray(data + 1, length)) return 0;
      RequireOkOrInvalid(kam::accounts::ValidateRequestId(request.request_id()));
      RequireOkOrInvalid(
          kam::accounts::ValidateAccountFields(request.account(), "account", policy));
      break;
    }
    case 1: {
      kam::v1::UpdateAccountRequest request;
      if (!request.ParseFromArray(data + 1, length)) return 0;
      auto paths = kam::accounts::ResolveAccountMask(request.update_mask(), request.account());
      RequireOkOrInvalid(paths.status());
      if (paths.ok()) {
        kam::v1::Account stored;
        kam::accounts::ApplyAccountMask(*paths, request.account(), &stored);
        RequireOkOrInvalid(kam::accounts::ValidateAccountFields(stored, "account", policy));
      }
      break;
    }
    default: {
      kam::v1::CreateManagerRequest request;
      if (!request.ParseFromArray(data + 1, length)) return 0;
      RequireOkOrInvalid(kam::accounts::ValidateManagerFields(request.manager(), "manager"));
      break;
    }
  }
  return 0;
}
