# the in-process agent (agent/) and its client (core/inproc) against a stand-in for DPDK
nc_add_glib_test(test_agent test_agent.c)
add_dependencies(test_agent netcap-agent)
set_property(TEST test_agent APPEND PROPERTY ENVIRONMENT "NC_AGENT_LIB=$<TARGET_FILE:netcap-agent>")
target_link_libraries(test_agent PRIVATE nc_test_corpus)
if(TARGET nc_corpus)
  add_dependencies(test_agent nc_corpus)
endif()
