// ES module entry of the `aims` package: the same objects as the CommonJS entry (index.js).
import aims from './index.js'

export const {
  Guard,
  Scanner,
  AuditLog,
  Approvals,
  Incidents,
  PolicyTester,
  validateRegister,
  jsonSchema,
  schemaNames,
  AimsError,
  PolicyError,
  AuditError,
  DeniedError,
  ApprovalRequiredError,
} = aims
export default aims
