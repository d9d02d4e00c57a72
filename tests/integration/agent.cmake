# the in-process agent against real DPDK processes (tests/integration/test_agent.sh): the agent
# is loaded by tests/apps/agent_shim.c (LD_PRELOAD, test-only) until the injector lands, and
# driven by tests/apps/agent_cap.c (a capture through core/inproc)
add_library(agent_shim MODULE ${CMAKE_SOURCE_DIR}/tests/apps/agent_shim.c)
# loaded into an application built without sanitizers: none of the project's options
set_property(TARGET agent_shim PROPERTY COMPILE_OPTIONS -Wall -Wextra -Werror -O2 -g)
set_property(TARGET agent_shim PROPERTY LINK_OPTIONS -pthread)
target_link_libraries(agent_shim PRIVATE ${CMAKE_DL_LIBS})

add_executable(agent_cap ${CMAKE_SOURCE_DIR}/tests/apps/agent_cap.c)
target_link_libraries(agent_cap PRIVATE netcap)

# with core/inject's command-line tool when that part defines it (tests/unit/inject.cmake)
set(nc_agent_inject_tool "")
if(TARGET inject_tool)
  set(nc_agent_inject_tool $<TARGET_FILE:inject_tool>)
endif()
add_test(NAME agent COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_agent.sh $<TARGET_FILE:agent_cap>
                               $<TARGET_FILE:agent_shim> $<TARGET_FILE:netcap-agent>
                               $<TARGET_FILE:netcap-cli> ${nc_agent_inject_tool})
set_tests_properties(agent PROPERTIES
  ENVIRONMENT "NC_FWD=$<TARGET_FILE:nc_fwd>;NC_TEST_DATA=${CMAKE_BINARY_DIR}/tests/data"
  TIMEOUT 600 SKIP_RETURN_CODE 77)
add_dependencies(agent_cap agent_shim netcap-agent nc_fwd netcap-cli)
if(TARGET inject_tool)
  add_dependencies(agent_cap inject_tool)
endif()
