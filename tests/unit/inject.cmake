# The injector (core/inject, docs/inject.md): its helper programs and its GLib test.
# inject_target, the process injected into, and inject_lib, the library loaded into it, run
# inside a process without sanitizers: built without the project's -fsanitize options (the
# directory's COMPILE_OPTIONS/LINK_OPTIONS replaced, as for nc_fwd).
set(NC_INJECT_APPS ${CMAKE_SOURCE_DIR}/tests/apps)
find_package(Threads REQUIRED)
add_executable(inject_target ${NC_INJECT_APPS}/inject_target.c)
target_link_libraries(inject_target PRIVATE Threads::Threads)
set_property(TARGET inject_target PROPERTY COMPILE_OPTIONS -Wall -Wextra -Werror -O2 -g)
set_property(TARGET inject_target PROPERTY LINK_OPTIONS "")

add_library(inject_lib MODULE ${NC_INJECT_APPS}/inject_lib.c)
set_property(TARGET inject_lib PROPERTY COMPILE_OPTIONS -Wall -Wextra -Werror -O2 -g)
# a soname: copy mode's second injection finds the first copy by it (test_inject)
set_property(TARGET inject_lib PROPERTY LINK_OPTIONS -Wl,-soname,inject_lib.so)
set_property(TARGET inject_lib PROPERTY PREFIX "")

# a static binary: no libc.so.6 mapped, which the injector must refuse
add_executable(inject_static ${NC_INJECT_APPS}/inject_static.c)
set_property(TARGET inject_static PROPERTY COMPILE_OPTIONS -Wall -Wextra -Werror -O2)
set_property(TARGET inject_static PROPERTY LINK_OPTIONS -static)

# the injector from the command line, for tests/integration/test_inject.sh (built like netcap)
add_executable(inject_tool ${NC_INJECT_APPS}/inject_tool.c)
target_link_libraries(inject_tool PRIVATE netcap)

nc_add_glib_test(test_inject test_inject.c)
add_dependencies(test_inject inject_target inject_lib inject_static)
set_property(TEST test_inject APPEND PROPERTY ENVIRONMENT
	"NC_INJECT_TARGET=$<TARGET_FILE:inject_target>"
	"NC_INJECT_LIB=$<TARGET_FILE:inject_lib>"
	"NC_INJECT_STATIC=$<TARGET_FILE:inject_static>")
set_tests_properties(test_inject PROPERTIES TIMEOUT 300)
