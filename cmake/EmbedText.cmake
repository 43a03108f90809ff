# nw_embed_text(TARGET FILE SYMBOL): compiles the text file FILE into TARGET as
#     const char SYMBOL[];  /* the file's bytes, NUL-terminated */
# so a default (taxonomy, boilerplate rules) has one source of truth: the file
# that is also installed and documented.
function(nw_embed_text target file symbol)
  set(out "${CMAKE_CURRENT_BINARY_DIR}/${symbol}.c")
  add_custom_command(
    OUTPUT "${out}"
    COMMAND ${CMAKE_COMMAND} -DIN=${file} -DOUT=${out} -DSYMBOL=${symbol}
            -P "${PROJECT_SOURCE_DIR}/cmake/EmbedTextRun.cmake"
    DEPENDS "${file}" "${PROJECT_SOURCE_DIR}/cmake/EmbedTextRun.cmake"
    COMMENT "Embedding ${file} as ${symbol}")
  target_sources(${target} PRIVATE "${out}")
endfunction()
