// How the application's JSON-schema forms check what is typed: by the schema, as it is
// typed, each error at its field, the browser's own checks left out.

import validator from "@rjsf/validator-ajv8";

export const FORM_OPTIONS = {
  validator,
  liveValidate: "onChange",
  showErrorList: false,
  noHtml5Validate: true,
  focusOnFirstError: true,
} as const;
