#!/usr/bin/env bash
# Compiles the HAL's SELinux policy on a host, as far as a host can: m4 expands the .te files
# with stand-ins for AOSP's macros, and Debian's checkpolicy compiles them (MLS, as AOSP's
# policy is) together with a small base policy that declares the AOSP classes, permissions,
# attributes and types they name (check/). Syntax errors, unknown types, attributes, classes,
# permissions or macros, and the restated AOSP neverallows fail it. Every context in
# file_contexts, service_contexts and genfs_contexts is compiled into the policy too, so a
# context naming an unknown type fails; file_contexts paths must be valid regular expressions.
# check/expectations then asserts what the compiled policy must allow (`grant`: the policy with
# `neverallow RULE` appended must be refused for exactly that rule, so a grant that is missing
# fails) and must not (`deny`: compiled in as a neverallow): who reaches the service's dump().
# What it cannot see (AOSP's own neverallows, the Treble split): README.md.
#
# Usage: sepolicy/check.sh [DIR...]   (default: vendor example; DIR holds *.te and the
#        contexts files; the self-test passes broken copies)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
for tool in m4 checkpolicy; do
  command -v "$tool" >/dev/null || {
    echo "sepolicy/check.sh: $tool is missing (Debian: apt-get install m4 checkpolicy)" >&2
    exit 127
  }
done
dirs=("$@")
[ "${#dirs[@]}" -gt 0 ] || dirs=("$here/vendor" "$here/example")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

tes=()
for dir in "${dirs[@]}"; do
  for te in "$dir"/*.te; do [ -e "$te" ] && tes+=("$te"); done
done
[ "${#tes[@]}" -gt 0 ] || { echo "sepolicy/check.sh: no .te files in ${dirs[*]}" >&2; exit 2; }

# Each line of FILE that holds more than a comment, as "LINE_NO<TAB>TEXT" (the comment cut).
entries() {
  awk '{ sub(/#.*/, ""); if (NF) printf "%d\t%s\n", NR, $0 }' "$1"
}

# The accesses the policy must grant and must not (see the loop below).
expect="$here/check/expectations"

# A neverallow that checkpolicy names by the expectations file's LINE_NO: it takes a file name
# only from `#line 1 "FILE"`, as m4 -s writes them, and a bare `#line N` after it.
neverallow_at() {
  printf '#line 1 "%s"\n#line %d\nneverallow %s;\n' "$expect" "$1" "$2"
}

# Each context becomes a genfscon line on a made-up file system, which checkpolicy validates
# (user, role, type and level must exist); on failure the comment above the line names the
# contexts file and line it came from.
contexts="$work/contexts.conf"
: >"$contexts"
n=0
for dir in "${dirs[@]}"; do
  for file in file_contexts service_contexts; do
    [ -e "$dir/$file" ] || continue
    while IFS=$'\t' read -r line_no line; do
      read -r -a fields <<<"$line"
      where="$dir/$file:$line_no"
      case $file in
        file_contexts)
          # PATH [TYPE-FLAG] CONTEXT; AOSP matches PATH as a whole regular expression.
          [ "${#fields[@]}" = 2 ] || [ "${#fields[@]}" = 3 ] ||
            { echo "$where: expected PATH [-flag] CONTEXT" >&2; exit 1; }
          status=0
          grep -E -q -- "^(${fields[0]})\$" </dev/null || status=$?
          [ "$status" -le 1 ] || { echo "$where: bad regular expression ${fields[0]}" >&2; exit 1; }
          ;;
        service_contexts)
          [ "${#fields[@]}" = 2 ] || { echo "$where: expected NAME CONTEXT" >&2; exit 1; }
          ;;
      esac
      context=${fields[${#fields[@]}-1]}
      [[ $context =~ ^u:object_r:[a-z0-9_]+:s0$ ]] ||
        { echo "$where: context $context is not u:object_r:TYPE:s0" >&2; exit 1; }
      n=$((n + 1))
      printf '# from %s\ngenfscon contextcheck /%d %s\n' "$where" "$n" "$context" >>"$contexts"
    done < <(entries "$dir/$file")
  done
done

genfs=()
for dir in "${dirs[@]}"; do
  [ -e "$dir/genfs_contexts" ] && genfs+=("$dir/genfs_contexts")
done

# check/expectations: each `deny` becomes a neverallow of the policy, each `grant` a probe (below).
denies="$work/denies.te"
: >"$denies"
grants=()
while IFS=$'\t' read -r line_no line; do
  read -r -a fields <<<"$line"
  rule=${fields[*]:1}
  case ${fields[0]} in
    grant)
      # One permission, so that a probe refused for it proves that very permission.
      [ "${#fields[@]}" = 4 ] && [[ ${fields[2]} == *:* ]] ||
        { echo "$expect:$line_no: expected grant SOURCE TARGET:CLASS PERMISSION" >&2; exit 2; }
      grants+=("$line_no|$rule")
      ;;
    deny)
      [ "${#fields[@]}" -ge 4 ] && [[ ${fields[2]} == *:* ]] ||
        { echo "$expect:$line_no: expected deny SOURCE TARGET:CLASS PERMISSIONS" >&2; exit 2; }
      neverallow_at "$line_no" "$rule" >>"$denies"
      ;;
    *) echo "$expect:$line_no: expected grant or deny" >&2; exit 2 ;;
  esac
done < <(entries "$expect")

# AOSP's order: classes, SIDs, access vectors, MLS, macros, attributes and types, rules, roles
# and users, SID contexts, fs_use, genfscon. Built in two halves, so that a grant's probe can go
# between them.
m4 --fatal-warnings -s "$here/check/macros.m4" "$here/check/classes.conf" "$here/check/base.te" \
  "${tes[@]}" >"$work/rules.conf"
cat "$denies" >>"$work/rules.conf"
m4 --fatal-warnings -s "$here/check/macros.m4" "$here/check/tail.conf" "${genfs[@]}" >"$work/tail.conf"
# After m4, whose own line markers would override the ones naming the contexts files.
cat "$contexts" >>"$work/tail.conf"
cat "$work/rules.conf" "$work/tail.conf" >"$work/policy.conf"
if ! checkpolicy -M -c 30 -o "$work/policy.bin" "$work/policy.conf" >"$work/log" 2>&1; then
  cat "$work/log" >&2
  # "on line N" is a line of the expanded policy.conf: show it with the lines before it (a
  # context's origin comment; .te lines are named by m4 -s's markers already).
  if line=$(grep -o 'on line [0-9]*' "$work/log" | head -1 | grep -o '[0-9]*$'); then
    sed -n "$((line > 2 ? line - 2 : 1)),${line}p" "$work/policy.conf" | sed 's/^/  policy.conf: /' >&2
  fi
  echo "sepolicy/check.sh: checkpolicy refused the policy" >&2
  exit 1
fi

# Each grant: the same policy with `neverallow RULE` must be refused, and for that neverallow;
# accepted means the policy does not allow the rule.
for entry in "${grants[@]}"; do
  IFS='|' read -r line_no rule <<<"$entry"
  { cat "$work/rules.conf"
    neverallow_at "$line_no" "$rule"
    cat "$work/tail.conf"; } >"$work/probe.conf"
  if checkpolicy -M -c 30 -o "$work/probe.bin" "$work/probe.conf" >"$work/log" 2>&1; then
    echo "$expect:$line_no: the policy does not allow $rule" >&2
    echo "sepolicy/check.sh: a granted access is missing" >&2
    exit 1
  fi
  grep -q -F "neverallow on line $line_no of $expect " "$work/log" || {
    cat "$work/log" >&2
    echo "$expect:$line_no: the probe for $rule failed for another reason (above)" >&2
    exit 2
  }
done
echo "sepolicy: ${#tes[@]} .te file(s) and $n context(s) compile with checkpolicy ($(checkpolicy -V | head -1));" \
  "$(grep -c '^neverallow' "$denies") denied and ${#grants[@]} granted access(es) hold (check/expectations)"
