#include "common/hmac_sha256.h"

// SHA256_Init/Update/Final are deprecated in OpenSSL 3 in favour of EVP, but
// they are the only interface whose state is a plain struct that can be
// copied without an allocation; they remain part of the 3.x API.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <cstring>

namespace tidegate::common {
namespace {

constexpr size_t kBlock = SHA256_CBLOCK;  // 64

static_assert(sizeof(SHA256_CTX) <= 112, "HmacSha256::State too small for SHA256_CTX");

SHA256_CTX* Ctx(void* state) { return static_cast<SHA256_CTX*>(state); }

}  // namespace

HmacSha256::HmacSha256(std::string_view key) {
  unsigned char block[kBlock] = {};
  if (key.size() > kBlock) {
    SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), block);
  } else {
    std::memcpy(block, key.data(), key.size());
  }
  unsigned char pad[kBlock];
  for (size_t i = 0; i < kBlock; ++i) pad[i] = block[i] ^ 0x36;
  SHA256_Init(Ctx(inner_.bytes));
  SHA256_Update(Ctx(inner_.bytes), pad, kBlock);
  for (size_t i = 0; i < kBlock; ++i) pad[i] = block[i] ^ 0x5c;
  SHA256_Init(Ctx(outer_.bytes));
  SHA256_Update(Ctx(outer_.bytes), pad, kBlock);
  OPENSSL_cleanse(block, sizeof(block));
  OPENSSL_cleanse(pad, sizeof(pad));
}

HmacSha256::~HmacSha256() {
  OPENSSL_cleanse(inner_.bytes, sizeof(inner_.bytes));
  OPENSSL_cleanse(outer_.bytes, sizeof(outer_.bytes));
}

HmacSha256 HmacSha256::WithPrefix(std::string_view prefix) const {
  HmacSha256 copy(*this);
  // The SHA-256 state keeps a partial block in itself: copying it later
  // (Compute) carries the prefix's last bytes along.
  SHA256_Update(Ctx(copy.inner_.bytes), prefix.data(), prefix.size());
  return copy;
}

void HmacSha256::Compute(std::initializer_list<std::string_view> parts, unsigned char* out) const {
  SHA256_CTX ctx;
  std::memcpy(&ctx, inner_.bytes, sizeof(ctx));
  for (std::string_view part : parts) SHA256_Update(&ctx, part.data(), part.size());
  unsigned char inner_digest[kBytes];
  SHA256_Final(inner_digest, &ctx);
  std::memcpy(&ctx, outer_.bytes, sizeof(ctx));
  SHA256_Update(&ctx, inner_digest, kBytes);
  SHA256_Final(out, &ctx);
  OPENSSL_cleanse(inner_digest, sizeof(inner_digest));
}

}  // namespace tidegate::common
