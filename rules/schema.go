package rules

import _ "embed" // JSONSchema

// JSONSchema is the JSON Schema (draft 2020-12) of the configuration file, for editors
// and other tools. Point an editor at it with a first line such as
//
//	# yaml-language-server: $schema=https://github.com/ruleflow/ruleflow/rules/ruleflow.schema.json
//
//go:embed ruleflow.schema.json
var JSONSchema []byte
