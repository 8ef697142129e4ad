-- AlterEnum
ALTER TYPE "OperationKind" ADD VALUE 'preview';
