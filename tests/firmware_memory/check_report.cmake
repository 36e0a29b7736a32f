# Runs firmware_memory and checks its report: one JSON object that parses, with non-zero
# figures where there must be some. The goals are reported, not asserted.
execute_process(COMMAND ${PROGRAM} OUTPUT_VARIABLE report ERROR_VARIABLE errors
                RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "firmware_memory failed (${status}):\n${errors}\n${report}")
endif()
string(JSON type ERROR_VARIABLE parse_error TYPE "${report}")
if(parse_error OR NOT type STREQUAL "OBJECT")
  message(FATAL_ERROR "not one JSON object (${parse_error}):\n${report}")
endif()
# (A session's C++ memory above the started accessory may be 0: it is reserved at start-up.)
foreach(path IN ITEMS "sizeof;firmware_accessory" "sizeof;firmware_accessory_impl"
                      "startup;accessory;cxx" "controllers_1;per_session;mbedtls_high_water"
                      "controllers_4;per_session;mbedtls_high_water"
                      "goals;startup_per_session" "goals;ram_per_session_1"
                      "goals;ram_per_session_4")
  string(JSON value ERROR_VARIABLE get_error GET "${report}" ${path})
  if(get_error OR NOT value GREATER 0)
    message(FATAL_ERROR "${path}: '${value}' is not a positive figure ${get_error}\n${report}")
  endif()
endforeach()
# Not a goal but a guarantee (issue 15): once its controllers are paired, the accessory
# allocates nothing in Lanyard's code, whatever the traffic (messages both ways, replay
# buffers full and drained).
foreach(scenario IN ITEMS controllers_1 controllers_4)
  string(JSON value ERROR_VARIABLE get_error GET "${report}" ${scenario} allocations_once_paired
         cxx)
  if(get_error OR NOT value EQUAL 0)
    message(FATAL_ERROR "${scenario}: ${value} C++ allocations once paired, none allowed "
                        "${get_error}\n${report}")
  endif()
endforeach()
# Sessions, TLS engines and pairing exchanges are made at start-up and recycled: neither a
# pairing nor a reconnection allocates anything of Lanyard's, with names and certificate CNs
# longer than a std::string keeps in place. A session, an engine, a SPAKE2+ side, a frame
# buffer or a string allocated per controller or connection again would break this.
# Administration and provisioning (an admin's requests, a user's refused wifi_set, the Wi-Fi
# driver's verdicts) are answered from views of the payload with replies in fixed room.
foreach(scenario IN ITEMS controllers_1 controllers_4)
  foreach(moment IN ITEMS allocations_per_pairing allocations_per_reconnection
                         allocations_for_two_failed_connections allocations_for_administration
                         allocations_for_provisioning
                         allocations_for_a_wrong_secret_and_a_dead_link
                         allocations_for_a_session_ended_by_its_controller)
    string(JSON value ERROR_VARIABLE get_error GET "${report}" ${scenario} ${moment} cxx)
    if(get_error OR NOT value EQUAL 0)
      message(FATAL_ERROR "${scenario} ${moment}: ${value} C++ allocations, none allowed "
                          "${get_error}\n${report}")
    endif()
  endforeach()
endforeach()
# Provisioning runs on a session that is established: mbedTLS allocates nothing for it either.
foreach(scenario IN ITEMS controllers_1 controllers_4)
  string(JSON value ERROR_VARIABLE get_error GET "${report}" ${scenario}
         allocations_for_provisioning mbedtls)
  if(get_error OR NOT value EQUAL 0)
    message(FATAL_ERROR "${scenario} allocations_for_provisioning: ${value} mbedTLS allocations, "
                        "none allowed ${get_error}\n${report}")
  endif()
endforeach()
message(STATUS "firmware_memory: ${report}")
