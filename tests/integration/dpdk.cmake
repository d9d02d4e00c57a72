# netcap against other DPDK releases than the host's, built and run in Debian roots that
# tests/dpdk/roots.sh makes once into the build tree (mmdebstrap; skipped, exit 77, where the
# registry cannot be reached), and against a DPDK application in a container.
set(nc_dpdk_env "NC_ROOTS=${CMAKE_BINARY_DIR}/dpdk-roots;NC_TEST_DATA=${CMAKE_BINARY_DIR}/tests/data")
# DPDK 24.11 (Debian 13): list, rx/tx per port, DWARF, @ret, USDT, -G, chains, VLAN, extcap
add_test(NAME dpdk_24_11
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_dpdk_24_11.sh $<TARGET_FILE:netcap-cli>
                 $<TARGET_FILE:netcap-extcap>)
set_tests_properties(dpdk_24_11 PROPERTIES ENVIRONMENT "${nc_dpdk_env}" TIMEOUT 600
                     SKIP_RETURN_CODE 77 RESOURCE_LOCK dpdk_roots)
# DPDK 20.11 (Debian 11): refused with one line naming the release, by the real build
add_test(NAME dpdk_20_11
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_dpdk_20_11.sh $<TARGET_FILE:netcap-cli>
                 $<TARGET_FILE:netcap-extcap>)
set_tests_properties(dpdk_20_11 PROPERTIES ENVIRONMENT "${nc_dpdk_env}" TIMEOUT 600
                     SKIP_RETURN_CODE 77 RESOURCE_LOCK dpdk_roots)
# a DPDK 24.11 application in a container (own mount and pid namespaces, root pivoted), netcap on
# the host with the host pid; same-named host files at its paths must not be read
add_test(NAME dpdk_container
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_dpdk_container.sh $<TARGET_FILE:netcap-cli>
                 $<TARGET_FILE:netcap-extcap>)
set_tests_properties(dpdk_container PROPERTIES
                     ENVIRONMENT "NC_FWD=$<TARGET_FILE:nc_fwd>;${nc_dpdk_env}" TIMEOUT 600
                     SKIP_RETURN_CODE 77 RESOURCE_LOCK dpdk_roots)
