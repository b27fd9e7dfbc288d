// Imported definitions answer as real API Gateway imported them: the recorded cases of
// test/conformance/recorded/import.json (each group names its AWS-validated LocalStack snapshot and test).
import t from 'tap'
import { loadRecorded, runRecorded } from './recorded/run.js'

runRecorded(t, loadRecorded('import.json'))
