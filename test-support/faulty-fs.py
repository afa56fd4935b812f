"""A pass-through FUSE file system over a backing directory that fails writes on command: a disk giving
I/O errors, for the commit log's fault tests (test-support/faulty-filesystem.ts starts and stops it).

  /usr/bin/python3 faulty-fs.py BACKING MOUNTPOINT CONTROL

CONTROL is a file read before every write to a regular file:
  off            writes pass through (also when the file is missing or empty)
  eio            writes fail with EIO and nothing reaches the backing file
  land-then-eio  the next write reaches the backing file and still fails with EIO (the bytes are on the disk
                 but the write reported an error, as a failed write-back leaves them); the control then
                 reads eio

Mounted with direct_io, so every read and write is a request here: no page cache hides what the backing file
holds. Debian's python3-fusepy (libfuse2); runs in the foreground until unmounted.
"""

import errno
import os
import sys

from fusepy import FUSE, FuseOSError, Operations


class FaultyFs(Operations):
    def __init__(self, backing, control):
        self.backing = backing
        self.control = control

    def _path(self, path):
        return os.path.join(self.backing, path.lstrip('/'))

    def _mode(self):
        try:
            with open(self.control) as f:
                return f.read().strip() or 'off'
        except FileNotFoundError:
            return 'off'

    def _os(self, fn, *args):
        try:
            return fn(*args)
        except OSError as e:
            raise FuseOSError(e.errno or errno.EIO)

    def access(self, path, mode):
        if not os.access(self._path(path), mode):
            raise FuseOSError(errno.EACCES)

    def chmod(self, path, mode):
        return self._os(os.chmod, self._path(path), mode)

    def chown(self, path, uid, gid):
        return self._os(os.chown, self._path(path), uid, gid)

    def getattr(self, path, fh=None):
        st = self._os(os.lstat, self._path(path))
        keys = ('st_atime', 'st_ctime', 'st_gid', 'st_mode', 'st_mtime', 'st_nlink', 'st_size', 'st_uid')
        return {k: getattr(st, k) for k in keys}

    def readdir(self, path, fh):
        return ['.', '..'] + self._os(os.listdir, self._path(path))

    def mkdir(self, path, mode):
        return self._os(os.mkdir, self._path(path), mode)

    def rmdir(self, path):
        return self._os(os.rmdir, self._path(path))

    def unlink(self, path):
        return self._os(os.unlink, self._path(path))

    def rename(self, old, new):
        return self._os(os.rename, self._path(old), self._path(new))

    def utimens(self, path, times=None):
        return self._os(os.utime, self._path(path), times)

    def statfs(self, path):
        st = self._os(os.statvfs, self._path(path))
        keys = ('f_bavail', 'f_bfree', 'f_blocks', 'f_bsize', 'f_favail', 'f_ffree', 'f_files', 'f_flag',
                'f_frsize', 'f_namemax')
        return {k: getattr(st, k) for k in keys}

    def open(self, path, flags):
        return self._os(os.open, self._path(path), flags & ~getattr(os, 'O_DIRECT', 0))

    def create(self, path, mode, fi=None):
        return self._os(os.open, self._path(path), os.O_RDWR | os.O_CREAT | os.O_TRUNC, mode)

    def read(self, path, size, offset, fh):
        return self._os(os.pread, fh, size, offset)

    def write(self, path, data, offset, fh):
        mode = self._mode()
        if mode == 'eio':
            raise FuseOSError(errno.EIO)
        written = self._os(os.pwrite, fh, data, offset)
        if mode == 'land-then-eio':
            os.fsync(fh)
            with open(self.control, 'w') as f:
                f.write('eio')
            raise FuseOSError(errno.EIO)
        return written

    def truncate(self, path, length, fh=None):
        if self._mode() != 'off':
            raise FuseOSError(errno.EIO)
        return self._os(os.truncate, self._path(path), length)

    def fsync(self, path, datasync, fh):
        if self._mode() != 'off':
            raise FuseOSError(errno.EIO)
        return self._os(os.fdatasync if datasync else os.fsync, fh)

    def fsyncdir(self, path, datasync, fh):
        return 0

    def flush(self, path, fh):
        return 0

    def release(self, path, fh):
        return self._os(os.close, fh)


if __name__ == '__main__':
    backing, mountpoint, control = sys.argv[1:4]
    FUSE(FaultyFs(backing, control), mountpoint, foreground=True, nothreads=True, direct_io=True)
