# The injector (core/inject, docs/inject.md) against the nc_fwd fixture and dpdk-testpmd:
# injection, the lcore never stopped, forwarding goes on, 50 SIGKILLs of the injector.
# inject_tool and inject_lib are defined in tests/unit/inject.cmake.
add_test(NAME inject_dpdk
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_inject.sh $<TARGET_FILE:inject_tool>
                 $<TARGET_FILE:inject_lib>)
set_tests_properties(inject_dpdk PROPERTIES
                     ENVIRONMENT "NC_FWD=$<TARGET_FILE:nc_fwd>;NC_TEST_DATA=${CMAKE_BINARY_DIR}/tests/data"
                     TIMEOUT 600 SKIP_RETURN_CODE 77)
# netcap mbuf --inject at a static function of nc_fwd called from two lcores, patched and unpatched
# 100 times: nc_fwd's checksum unchanged (issue 16)
add_test(NAME inject_lcores
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_inject_lcores.sh $<TARGET_FILE:netcap-cli>)
set_tests_properties(inject_lcores PROPERTIES
                     ENVIRONMENT "NC_FWD=$<TARGET_FILE:nc_fwd>;NC_TEST_DATA=${CMAKE_BINARY_DIR}/tests/data"
                     TIMEOUT 300 SKIP_RETURN_CODE 77)
