# the in-process agent (agent/) and its client (core/inproc) against a stand-in for DPDK
nc_add_glib_test(test_agent test_agent.c)
add_dependencies(test_agent netcap-agent)
set_property(TEST test_agent APPEND PROPERTY ENVIRONMENT "NC_AGENT_LIB=$<TARGET_FILE:netcap-agent>")
target_link_libraries(test_agent PRIVATE nc_test_corpus)
if(TARGET nc_corpus)
  add_dependencies(test_agent nc_corpus)
endif()
# function hooks' trampolines save no vector register: the agent code they call must use none
# (tests/unit/agent_gpr.sh, objdump)
add_test(NAME agent_gpr COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/agent_gpr.sh
                                $<TARGET_FILE:netcap-agent>)
set_tests_properties(agent_gpr PROPERTIES SKIP_RETURN_CODE 77)
