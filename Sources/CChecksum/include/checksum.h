// CRC-32C (Castagnoli: reflected polynomial 0x82F63B78, initial value and final xor
// 0xFFFFFFFF; the check value of ASCII "123456789" is 0xE3069283), the checksum of the
// data section of our safetensors files, which Python's `crc32c` and `google-crc32c`
// packages compute too. On x86-64 CPUs with SSE4.2 it runs on the `crc32` instruction;
// elsewhere on a slicing-by-8 table.
//
// Every function takes the CRC of the bytes before `data` (0 for none) and returns the CRC
// of those bytes followed by `data`, so a buffer may be checksummed in pieces:
// crc(crc(0, a), b) == crc(0, a ++ b).
#ifndef LANDSLIDE_CHECKSUM_H
#define LANDSLIDE_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/// CRC-32C of `count` bytes at `data` (which may be NULL when `count` is 0), on the fastest
/// implementation this CPU has.
uint32_t landslide_crc32c(uint32_t crc, const void *data, size_t count);

/// CRC-32C on the portable slicing-by-8 table, whatever the CPU.
uint32_t landslide_crc32c_table(uint32_t crc, const void *data, size_t count);

/// Whether this CPU runs the hardware implementation (x86-64 with SSE4.2).
int landslide_crc32c_hardware_available(void);

/// CRC-32C on the SSE4.2 `crc32` instruction; the table where
/// `landslide_crc32c_hardware_available()` is 0.
uint32_t landslide_crc32c_hardware(uint32_t crc, const void *data, size_t count);

#endif
