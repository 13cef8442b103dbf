#!/usr/bin/env bash
# Seeds for fuzz_resp: pipelines of common commands, inline and multibulk,
# and a few protocol errors. The first byte splits the rest between two clients.
set -u
out=$1
seed() { printf '%b' "$2" >"$out/$1"; }
seed set-get '\x80*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n'
seed inline '\xffSET a "b c"\r\nGET a\r\nINCR n\r\nEXPIRE a 10\r\nTTL a\r\nKEYS *\r\nSCAN 0 MATCH a* COUNT 5\r\n'
seed multi '\xffMULTI\r\nSET a 1\r\nINCR a\r\nEXEC\r\nWATCH a\r\nMULTI\r\nDISCARD\r\n'
seed proto-errors '\x10*abc\r\n*1\r\n$x\r\nSET "unbalanced\r\n'
seed auth '\x01\x01AUTH pwd\r\nHELLO 2\r\nCLIENT SETNAME x\r\nCLIENT LIST\r\nINFO\r\nCONFIG GET *\r\n'
exit 0
