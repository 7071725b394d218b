/*
 * bcryptprimitives.dll shim for Wine 8 (Debian 12).
 *
 * Go 1.22+ Windows binaries load bcryptprimitives.dll at start and call
 * ProcessPrng for crypto/rand and the runtime's random seed. Wine 8 has no
 * such DLL, so every Go binary dies with "bcryptprimitives.dll not found".
 * This shim exports ProcessPrng and forwards to RtlGenRandom
 * (advapi32!SystemFunction036), which Wine implements.
 *
 * Test infrastructure only: built and copied into the private Wine prefix by
 * scripts/test.sh. Never shipped.
 */
#include <windows.h>

/* RtlGenRandom; the mingw headers declare it only under a macro name. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

/* Real Windows: BOOL ProcessPrng(PBYTE pbData, SIZE_T cbData), always TRUE. */
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T size)
{
    while (size > 0) {
        ULONG chunk = size > 0x40000000 ? 0x40000000 : (ULONG)size;
        if (!SystemFunction036(data, chunk)) {
            return FALSE;
        }
        data += chunk;
        size -= chunk;
    }
    return TRUE;
}
