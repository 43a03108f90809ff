# Script mode helper of nw_embed_text: writes OUT, a C file defining SYMBOL as the text of IN.
file(READ "${IN}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" bytes "${bytes}")
file(WRITE "${OUT}" "/* Generated from ${IN} by cmake/EmbedTextRun.cmake. */\n"
                    "extern const char ${SYMBOL}[];\n"
                    "const char ${SYMBOL}[] = {\n${bytes}0x00};\n")
