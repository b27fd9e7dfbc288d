// Routing answers as real API Gateway routed: the recorded cases of
// test/conformance/recorded/routing.json (each group names its AWS-validated LocalStack snapshot and test).
import t from 'tap'
import { loadRecorded, runRecorded } from './recorded/run.js'

runRecorded(t, loadRecorded('routing.json'))
