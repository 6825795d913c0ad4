#include "checksum.h"

#include <pthread.h>

// The reflected Castagnoli polynomial.
#define POLYNOMIAL 0x82F63B78u

// tables[0][b] is the CRC of byte b; tables[k][b] that of byte b followed by k zero bytes,
// so that eight bytes are folded in with eight look-ups.
static uint32_t tables[8][256];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void fill_tables(void) {
  for (uint32_t byte = 0; byte < 256; byte++) {
    uint32_t crc = byte;
    for (int bit = 0; bit < 8; bit++) crc = (crc >> 1) ^ (POLYNOMIAL & (0u - (crc & 1)));
    tables[0][byte] = crc;
  }
  for (int k = 1; k < 8; k++) {
    for (int byte = 0; byte < 256; byte++) {
      uint32_t previous = tables[k - 1][byte];
      tables[k][byte] = (previous >> 8) ^ tables[0][previous & 0xFF];
    }
  }
}

// Four bytes as a little-endian word, on any byte order (one load where it is little).
static inline uint32_t load_le32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint32_t landslide_crc32c_table(uint32_t crc, const void *data, size_t count) {
  pthread_once(&tables_once, fill_tables);
  const unsigned char *p = data;
  uint32_t c = ~crc;
  for (; count >= 8; count -= 8, p += 8) {
    uint32_t low = c ^ load_le32(p);
    uint32_t high = load_le32(p + 4);
    c = tables[7][low & 0xFF] ^ tables[6][(low >> 8) & 0xFF] ^ tables[5][(low >> 16) & 0xFF] ^
        tables[4][low >> 24] ^ tables[3][high & 0xFF] ^ tables[2][(high >> 8) & 0xFF] ^
        tables[1][(high >> 16) & 0xFF] ^ tables[0][high >> 24];
  }
  for (; count > 0; count--, p++) c = (c >> 8) ^ tables[0][(c ^ *p) & 0xFF];
  return ~c;
}

#if defined(__x86_64__)

#include <string.h>

int landslide_crc32c_hardware_available(void) { return __builtin_cpu_supports("sse4.2"); }

// The hardware path runs three lanes of LANE bytes side by side: `crc32` has a latency of
// 3 cycles and a throughput of 1 per cycle, so one chain alone would leave two thirds of the
// unit idle. The register update is linear over GF(2): the register after A ++ B is
// shift_|B|(register after A) ^ (register of B from 0), shift_n feeding n zero bytes. The
// lanes after the first start from 0 and are folded in with shift_LANE and shift_2·LANE,
// four table look-ups each.
#define LANE 4096

// shifts[0] feeds LANE zero bytes, shifts[1] 2·LANE: shifts[s][k][b] is the image of
// byte b in byte k of the register.
static uint32_t shifts[2][4][256];
static pthread_once_t shifts_once = PTHREAD_ONCE_INIT;

// The register (no initial or final xor) after `count` zero bytes.
static uint32_t feed_zeros(uint32_t c, size_t count) {
  static const unsigned char zeros[256];
  for (; count >= sizeof zeros; count -= sizeof zeros)
    c = ~landslide_crc32c_table(~c, zeros, sizeof zeros);
  return ~landslide_crc32c_table(~c, zeros, count);
}

static void fill_shifts(void) {
  for (int s = 0; s < 2; s++) {
    uint32_t bits[32];
    for (int bit = 0; bit < 32; bit++) bits[bit] = feed_zeros(1u << bit, (size_t)LANE * (s + 1));
    for (int k = 0; k < 4; k++) {
      for (int byte = 0; byte < 256; byte++) {
        uint32_t image = 0;
        for (int bit = 0; bit < 8; bit++)
          if (byte >> bit & 1) image ^= bits[8 * k + bit];
        shifts[s][k][byte] = image;
      }
    }
  }
}

static inline uint32_t shift(int s, uint32_t c) {
  return shifts[s][0][c & 0xFF] ^ shifts[s][1][(c >> 8) & 0xFF] ^
         shifts[s][2][(c >> 16) & 0xFF] ^ shifts[s][3][c >> 24];
}

static inline uint64_t load64(const unsigned char *p) {
  uint64_t word;
  memcpy(&word, p, sizeof word);
  return word;
}

__attribute__((target("sse4.2"))) static uint32_t crc32c_sse42(uint32_t crc,
                                                                const unsigned char *p,
                                                                size_t count) {
  uint64_t c = ~crc;
  for (; count > 0 && ((uintptr_t)p & 7) != 0; count--, p++)
    c = __builtin_ia32_crc32qi((uint32_t)c, *p);
  if (count >= 3 * LANE) pthread_once(&shifts_once, fill_shifts);
  for (; count >= 3 * LANE; count -= 3 * LANE, p += 3 * LANE) {
    uint64_t c1 = 0, c2 = 0;
    for (size_t offset = 0; offset < LANE; offset += 8) {
      c = __builtin_ia32_crc32di(c, load64(p + offset));
      c1 = __builtin_ia32_crc32di(c1, load64(p + LANE + offset));
      c2 = __builtin_ia32_crc32di(c2, load64(p + 2 * LANE + offset));
    }
    c = shift(1, (uint32_t)c) ^ shift(0, (uint32_t)c1) ^ (uint32_t)c2;
  }
  for (; count >= 8; count -= 8, p += 8) c = __builtin_ia32_crc32di(c, load64(p));
  for (; count > 0; count--, p++) c = __builtin_ia32_crc32qi((uint32_t)c, *p);
  return ~(uint32_t)c;
}

uint32_t landslide_crc32c_hardware(uint32_t crc, const void *data, size_t count) {
  if (!landslide_crc32c_hardware_available()) return landslide_crc32c_table(crc, data, count);
  return crc32c_sse42(crc, data, count);
}

#else

int landslide_crc32c_hardware_available(void) { return 0; }

uint32_t landslide_crc32c_hardware(uint32_t crc, const void *data, size_t count) {
  return landslide_crc32c_table(crc, data, count);
}

#endif

uint32_t landslide_crc32c(uint32_t crc, const void *data, size_t count) {
  return landslide_crc32c_hardware(crc, data, count);
}
