# The libFuzzer targets, by the layer they link: one list for the fuzz build
# (test/fuzz/CMakeLists.txt) and the ctest entries (test/CMakeLists.txt).
set(FUZZ_TARGETS_core decode parse_ipv4 classify router)
set(FUZZ_TARGETS_checkers parse_link_messages is_echo_reply parse_server_state parse_lsn)
set(FUZZ_TARGETS_config parse_config read_ini parse_bytes parse_fixed)
set(FUZZ_TARGETS_notify line_buffer)
set(FUZZ_LAYERS core checkers config notify)
set(FUZZ_TARGETS ${FUZZ_TARGETS_core} ${FUZZ_TARGETS_checkers} ${FUZZ_TARGETS_config}
    ${FUZZ_TARGETS_notify})
