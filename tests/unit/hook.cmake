# Function hooks inside a process (issue 16, docs/inproc.md "Function hooks"): the trampoline
# builder (core/inject/hook.c) and the stop-all-threads patcher (core/inject/patch.c), in
# libnetcap, and their test.

# hook_target, the process patched, runs without sanitizers (as nc_fwd and inject_target)
find_package(Threads REQUIRED)
add_executable(hook_target ${CMAKE_SOURCE_DIR}/tests/apps/hook_target.c)
target_link_libraries(hook_target PRIVATE Threads::Threads)
set_property(TARGET hook_target PROPERTY COMPILE_OPTIONS -Wall -Wextra -Werror -O2 -g)
set_property(TARGET hook_target PROPERTY LINK_OPTIONS "")

nc_add_glib_test(test_hook test_hook.c)
add_dependencies(test_hook hook_target nc_fwd)
set_property(TEST test_hook APPEND PROPERTY ENVIRONMENT
	"NC_HOOK_TARGET=$<TARGET_FILE:hook_target>"
	"NC_FWD=$<TARGET_FILE:nc_fwd>")
set_tests_properties(test_hook PROPERTIES TIMEOUT 300)
