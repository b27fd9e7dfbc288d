import t from 'tap'
import { lowerAscii } from '../../src/util/ascii.js'
t.equal(lowerAscii('Content-Type'), 'content-type')
