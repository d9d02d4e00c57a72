# core/jit: the in-process burst filter against libpcap's interpreter on the differential corpus
nc_add_glib_test(test_jit test_jit.c)
target_link_libraries(test_jit PRIVATE nc_test_corpus)
if(TARGET nc_corpus)
  add_dependencies(test_jit nc_corpus)
endif()
