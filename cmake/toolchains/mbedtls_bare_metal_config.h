/* What a firmware's mbedTLS configuration leaves out of Debian's (MBEDTLS_USER_CONFIG_FILE, read
 * at the end of mbedtls/config.h): threads, sockets, timers and files of an operating system,
 * and the HAVEGE entropy source. scripts/firmware-size --target cortex-m4 compiles Lanyard
 * against Debian's mbedTLS 2.28 headers with it; a firmware project uses its own
 * configuration. */
#undef MBEDTLS_THREADING_C
#undef MBEDTLS_THREADING_PTHREAD
#undef MBEDTLS_HAVEGE_C
#undef MBEDTLS_NET_C
#undef MBEDTLS_TIMING_C
#undef MBEDTLS_FS_IO
#undef MBEDTLS_PSA_ITS_FILE_C
#undef MBEDTLS_PSA_CRYPTO_STORAGE_C
