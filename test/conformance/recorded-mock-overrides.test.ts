// MOCK integrations' overrides answer as real API Gateway answered: the recorded cases of
// test/conformance/recorded/mock-overrides.json (each group names its AWS-validated LocalStack snapshot and test).
import t from 'tap'
import { loadRecorded, runRecorded } from './recorded/run.js'

runRecorded(t, loadRecorded('mock-overrides.json'))
