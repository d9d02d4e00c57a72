# Function hooks (issue 16) in a running nc_fwd: hook_tool (netcap's builder, patcher and
# injector; built like netcap) and hook_lib (loaded into nc_fwd: no sanitizers), test_hook.sh.
add_executable(hook_tool ${CMAKE_SOURCE_DIR}/tests/apps/hook_tool.c)
target_link_libraries(hook_tool PRIVATE netcap)

add_library(hook_lib MODULE ${CMAKE_SOURCE_DIR}/tests/apps/hook_lib.c)
set_property(TARGET hook_lib PROPERTY COMPILE_OPTIONS -Wall -Wextra -Werror -O2 -g)
set_property(TARGET hook_lib PROPERTY LINK_OPTIONS "")
set_property(TARGET hook_lib PROPERTY PREFIX "")

add_test(NAME hook_dpdk
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_hook.sh $<TARGET_FILE:hook_tool>
                 $<TARGET_FILE:hook_lib>)
set_tests_properties(hook_dpdk PROPERTIES
                     ENVIRONMENT "NC_FWD=$<TARGET_FILE:nc_fwd>;NC_TEST_DATA=${CMAKE_BINARY_DIR}/tests/data"
                     TIMEOUT 300 SKIP_RETURN_CODE 77)
